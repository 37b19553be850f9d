from tests.fixtures.fcm import fcm  # noqa: F401 (the local FCM server fixture)
