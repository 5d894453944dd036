"""The broker programme's pages, mounted at /broker/: tasks, leaderboard, statements, honours."""

from django.urls import path

from forecourt.referrals import programme_views as views

app_name = "referrals-programme"

urlpatterns = [
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<str:task_id>/accept/", views.task_accept_view, name="task-accept"),
    path("leaderboard/", views.leaderboard_view, name="leaderboard"),
    path("statements/", views.statements, name="statements"),
    path("statements/<str:statement_id>/", views.statement, name="statement"),
    path(
        "statements/<str:statement_id>/download.<str:fmt>",
        views.statement_download,
        name="statement-download",
    ),
    path("honours/", views.honours, name="honours"),
]
