"""Regional debates: scheduling, publishing, registration, calendar feeds, map and minutes."""
