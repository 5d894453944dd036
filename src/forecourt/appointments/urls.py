from django.urls import path

from forecourt.appointments import views, workspace_views
from forecourt.appointments.models import AppointmentKind

app_name = "appointments"

TEST_DRIVE = {"kind": AppointmentKind.TEST_DRIVE.value}
VISIT = {"kind": AppointmentKind.VISIT.value}

urlpatterns = [
    path("test-drive/", views.book, TEST_DRIVE, name="book-test-drive"),
    path("test-drive/dealers/", views.dealer_options, TEST_DRIVE, name="test-drive-dealers"),
    path("test-drive/slots/", views.slot_options, TEST_DRIVE, name="test-drive-slots"),
    path("visit/", views.book, VISIT, name="book-visit"),
    path("visit/dealers/", views.dealer_options, VISIT, name="visit-dealers"),
    path("visit/slots/", views.slot_options, VISIT, name="visit-slots"),
    path("appointments/mine/", views.mine, name="mine"),
    path("appointments/<str:public_id>/", views.detail, name="detail"),
    path("appointments/<str:public_id>/qr.svg", views.qr_image, name="qr"),
    path("appointments/<str:public_id>/cancel/", views.cancel, name="cancel"),
    path("appointments/<str:public_id>/reschedule/", views.reschedule, name="reschedule"),
    path("workspace/appointments/", workspace_views.day, name="workspace-day"),
    path(
        "workspace/appointments/<str:public_id>/test-drive/start/",
        workspace_views.start_test_drive,
        name="workspace-test-drive-start",
    ),
    path(
        "workspace/appointments/<str:public_id>/test-drive/finish/",
        workspace_views.finish_test_drive,
        name="workspace-test-drive-finish",
    ),
    path("workspace/appointments/<str:public_id>/cancel/", workspace_views.cancel, name="workspace-cancel"),
    path(
        "workspace/appointments/<str:public_id>/reschedule/",
        workspace_views.reschedule,
        name="workspace-reschedule",
    ),
    path("workspace/check-in/", workspace_views.check_in, name="workspace-check-in"),
]
