"""Template helpers offers lends to other apps' pages (see HOME_PAGE_INCLUDES in settings)."""
