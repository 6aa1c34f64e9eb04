"""Items from elsewhere: fetching with limits, web pages and feeds read as untrusted
text, link checking, and the ``add``/``pull`` commands that write them into an issue."""
