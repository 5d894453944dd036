from django.urls import path

from forecourt.leads import views

app_name = "leads"
urlpatterns = [
    path("leads/inquiry/", views.inquiry, name="inquiry"),
    path("workspace/leads/", views.inbox, name="workspace-inbox"),
    path("workspace/leads/new/", views.new_entry, name="workspace-new"),
    path("workspace/leads/<str:public_id>/", views.detail, name="workspace-detail"),
    path("workspace/leads/<str:public_id>/claim/", views.claim, name="workspace-claim"),
    path("workspace/leads/<str:public_id>/phone/", views.reveal_phone, name="workspace-phone"),
    path("workspace/leads/<str:public_id>/calls/", views.log_call, name="workspace-call"),
    path("workspace/leads/<str:public_id>/follow-up/", views.follow_up, name="workspace-follow-up"),
    path("workspace/leads/<str:public_id>/move/", views.move, name="workspace-move"),
    path("workspace/leads/<str:public_id>/defeat/", views.request_defeat, name="workspace-defeat"),
    path(
        "workspace/leads/<str:public_id>/defeat-review/", views.review_defeat, name="workspace-defeat-review"
    ),
    path("workspace/leads/<str:public_id>/assign/", views.assign, name="workspace-assign"),
    path("workspace/kpi/", views.kpi, name="workspace-kpi"),
]
