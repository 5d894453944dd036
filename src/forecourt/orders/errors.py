"""The orders app's error codes; services raise core DomainError/NotFound with one of these codes."""

from enum import StrEnum

from forecourt.core.errors import field_error as field_error  # the apps import it from here


class OrderErrorCode(StrEnum):
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    NOTHING_DUE = "nothing_due"
    WRONG_STAGE = "wrong_stage"
    UNKNOWN_PROVIDER = "unknown_provider"
    NO_DELIVERING_DEALER = "no_delivering_dealer"
    DEALER_DOES_NOT_DELIVER = "dealer_does_not_deliver"
    INVALID_LOCK_DEADLINE = "invalid_lock_deadline"
    INVALID_CONFIGURATION = "invalid_configuration"
    PRICE_LIST_CHANGED = "price_list_changed"
    CHANGE_WINDOW_CLOSED = "change_window_closed"
    LOCKED = "locked"
    NOT_CANCELLABLE = "not_cancellable"
    VEHICLE_NOT_AVAILABLE = "vehicle_not_available"
    VEHICLE_DOES_NOT_MATCH = "vehicle_does_not_match"
    INVALID_VIN = "invalid_vin"
    DELIVERY_IN_PAST = "delivery_in_past"
    NOT_DEALER_STAFF = "not_dealer_staff"
    EDITION_NOT_ON_SALE = "edition_not_on_sale"
    EDITION_NOT_IN_CITY = "edition_not_in_city"
    CITY_REQUIRED = "city_required"
    SOLD_OUT = "sold_out"
    ALL_UNITS_HELD = "all_units_held"
    ALREADY_ORDERED = "edition_already_ordered"
    HOLD_EXPIRED = "hold_expired"
    INVALID_AMOUNT = "invalid_amount"
