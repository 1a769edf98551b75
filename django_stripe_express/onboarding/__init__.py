"""Onboarding flows: OAuth (`oauth`) and Account Links (`account_links`).

`outcomes` is shared: both flows end a failed attempt the same way.
"""
