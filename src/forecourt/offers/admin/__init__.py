"""The ops console's offers pages: campaigns and merchants, write-offs (with reversal), subsidies."""

from forecourt.offers.admin import campaigns, subsidies, writeoffs  # noqa: F401
