"""Server-rendered pages shown inside the app's WebViews."""
