"""Accounts and their bearer tokens."""

from service.accounts.account_admin import (
    account_id_by_login,
    assign_login,
    change_own_password,
    list_accounts,
    set_disabled,
    set_password,
)
from service.accounts.models import Account
from service.accounts.services import (
    Authenticated,
    account_names,
    account_regions,
    accounts_to_notify,
    authenticate,
    authenticate_cached,
    create_account,
    forget_token,
    issue_token,
    revoke_token,
    still_authenticated,
)
from service.accounts.sessions import SessionUser, actor_of, session_user, sign_out
from service.accounts.signin import sign_in
from service.accounts.throttle import SignInPolicy, Throttle

__all__ = [
    "Account",
    "account_id_by_login",
    "account_names",
    "account_regions",
    "actor_of",
    "accounts_to_notify",
    "assign_login",
    "authenticate",
    "authenticate_cached",
    "Authenticated",
    "change_own_password",
    "create_account",
    "forget_token",
    "issue_token",
    "list_accounts",
    "revoke_token",
    "session_user",
    "SessionUser",
    "set_disabled",
    "set_password",
    "sign_in",
    "sign_out",
    "SignInPolicy",
    "still_authenticated",
    "Throttle",
]
