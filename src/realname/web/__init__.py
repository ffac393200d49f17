"""The kiosk (/kiosk) and back office (/office) pages, served by the API app itself: static files, no build."""
