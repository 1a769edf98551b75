"""Onboarding flows: OAuth (`oauth`), Account Links (`account_links`) and
embedded onboarding (`embedded`, with `account_sessions` for Connect.js).

`outcomes` is shared: every flow ends a failed attempt the same way;
`platform_accounts` starts the two flows where the platform creates the account.
"""
