"""Push notifications: devices, preferences, segments, campaigns and the FCM sender."""
