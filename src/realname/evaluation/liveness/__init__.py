"""Measuring liveness offline: recorded clips through the live session, presentation attacks, capture variations,
screen-light attacks, blink recall. None of it runs in a live check."""
