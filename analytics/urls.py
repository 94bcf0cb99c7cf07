from django.urls import path

from analytics import apis

urlpatterns = [
    path("events", apis.EventCreateApi.as_view(), name="events"),
]
