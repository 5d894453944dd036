"""The broker programme's ops pages, mounted at /referrals/ops/: held commissions, tasks, statements."""

from django.urls import path

from forecourt.referrals import ops_views as views

app_name = "referrals-ops"

urlpatterns = [
    path("", views.home, name="home"),
    path("commissions/<str:commission_id>/decide/", views.commission_decide_view, name="commission-decide"),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<str:task_id>/", views.task, name="task"),
    path("tasks/<str:task_id>/<str:action>/", views.task_change, name="task-change"),
    path("statements/", views.statements, name="statements"),
    path("statements/issue/", views.statements_issue, name="statements-issue"),
    path("statements/<str:statement_id>/", views.statement, name="statement"),
    path("statements/<str:statement_id>/payout/", views.payout, name="payout"),
    path(
        "statements/<str:statement_id>/download.<str:fmt>",
        views.statement_download,
        name="statement-download",
    ),
]
