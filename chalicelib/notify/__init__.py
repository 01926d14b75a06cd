"""Notifications (TMF681 communicationManagement): every SMS and email the platform sends."""
