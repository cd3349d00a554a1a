"""Users, API keys, artisan-editor links, link codes and share links: the control plane's reads and writes.

Uniqueness (§3, §17.3) is enforced by guard rows in UniquenessTable written in the same transaction as the row
they protect, so a duplicate is refused atomically (Duplicate names which rule) and nothing is half written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from aimanager.dal.tables import (
    LinkCodeItem,
    SessionItem,
    ShareLinkItem,
    UniqueItem,
    UserEditorLinkItem,
    UserItem,
)
from aimanager.ids import utc_now


class Duplicate(Exception):
    """A uniqueness guard (or a condition) refused the write; `rule` says which one."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


class Stale(Exception):
    """A conditional write found the row changed, gone or not the caller's."""


def email_guard(email: str) -> str:
    return f"email#{email.strip().lower()}"


def external_id_guard(editor_id: str, external_id: str) -> str:
    return f"ext#{editor_id}#{external_id}"


def pair_guard(artisan_id: str, editor_id: str) -> str:
    return f"pair#{artisan_id}#{editor_id}"


def invitation_guard(editor_id: str, email: str) -> str:
    """One invitation per (editor, email), whoever the email belongs to: the same answer for every email."""
    return f"inv#{editor_id}#{email.strip().lower()}"


def _failed_rule(exc: TransactWriteError, rules: Sequence[str]) -> str | None:
    for reason, rule in zip(exc.cancellation_reasons, rules, strict=False):
        if reason is not None and reason.code == "ConditionalCheckFailed":
            return rule
    return None


_SEND_ORDER = {"check": 0, "delete": 1, "guard": 2, "put": 2, "update": 3}


def transact(ops: Sequence[tuple[str, str, Any, Any]]) -> None:
    """Run (rule, kind, model-or-class, arg) operations in one transaction; a failed condition raises Duplicate.

    kind: "put" (arg = condition), "guard" (model = UniqueItem, must not exist), "update" (arg = (actions,
    condition)), "delete" (arg = condition), "check" (model = (class, hash_key), arg = condition).
    """
    # pynamodb sends condition checks, deletes, puts, then updates: cancellation reasons come in that order.
    ops = sorted(ops, key=lambda op: _SEND_ORDER[op[1]])
    rules = [op[0] for op in ops]
    try:
        with TransactWrite(connection=Connection()) as tx:
            for _, kind, model, arg in ops:
                if kind == "guard":
                    tx.save(model, condition=UniqueItem.key.does_not_exist())
                elif kind == "put":
                    tx.save(model, condition=arg)
                elif kind == "update":
                    tx.update(model, actions=arg[0], condition=arg[1])
                elif kind == "delete":
                    tx.delete(model, condition=arg)
                elif kind == "check":
                    tx.condition_check(model[0], model[1], condition=arg)
    except TransactWriteError as exc:
        rule = _failed_rule(exc, rules)
        if rule is None:
            raise
        raise Duplicate(rule) from exc


# ------------------------------------------------------------------ users


def get_user(user_id: str) -> UserItem | None:
    """Strongly consistent: a revoked key, a removed role or a deactivation is seen by the next request."""
    try:
        return UserItem.get(user_id, consistent_read=True)
    except DoesNotExist:
        return None


def find_user_by_email(email: str) -> UserItem | None:
    try:
        guard = UniqueItem.get(email_guard(email), consistent_read=True)
    except DoesNotExist:
        return None
    return get_user(guard.ref)


def users_by_key_prefix(prefix: str) -> list[UserItem]:
    """Candidates for an API key (the GSI is eventually consistent: callers re-read the user consistently)."""
    return list(UserItem.api_key_prefix_index.query(prefix, limit=5))


def create_user(user: UserItem, *, also: Sequence[tuple[str, str, Any, Any]] = ()) -> None:
    """The user and its email guard, plus `also` (e.g. the link of create-and-link), all or nothing."""
    user.email = user.email.strip().lower()
    transact(
        [
            ("email_taken", "guard", UniqueItem(email_guard(user.email), ref=user.user_id), None),
            ("user_exists", "put", user, UserItem.user_id.does_not_exist()),
            *also,
        ]
    )


def update_user(user_id: str, actions: list[Action]) -> UserItem:
    item = UserItem(user_id)
    try:
        item.update(actions=[*actions, UserItem.updated_at.set(utc_now())], condition=UserItem.user_id.exists())
    except UpdateError as exc:
        if "ConditionalCheckFailed" in str(exc.cause_response_code or exc):
            raise Stale(user_id) from exc
        raise
    return item


def users_with_role(role: str) -> list[UserItem]:
    """Admin listings (a scan: the admin API is low traffic; the editor routes never scan)."""
    return [u for u in UserItem.scan(UserItem.roles.contains(role)) if role in u.roles.split(",")]


# ------------------------------------------------------------------ artisan <-> editor links


def link_ops(link: UserEditorLinkItem) -> list[tuple[str, str, Any, Any]]:
    """The writes that create a link: both uniqueness guards (§17.3) and the link itself."""
    return [
        ("already_linked", "guard", UniqueItem(pair_guard(link.artisan_id, link.editor_id), ref=link.link_id), None),
        (
            "external_id_taken",
            "guard",
            UniqueItem(external_id_guard(link.editor_id, link.external_id), ref=link.link_id),
            None,
        ),
        ("link_exists", "put", link, UserEditorLinkItem.link_id.does_not_exist()),
    ]


def create_link(link: UserEditorLinkItem) -> None:
    transact(link_ops(link))


def create_invitation(link: UserEditorLinkItem) -> None:
    """A pending link (decision 0029): guarded by (editor, email) and (editor, external_id), and refused if this
    editor is already linked to the artisan (the editor's own knowledge). The same four operations for every email
    (a link to nobody checks a guard that cannot exist): the write costs the same whoever the email is."""
    ops: list[tuple[str, str, Any, Any]] = [
        (
            "already_invited",
            "guard",
            UniqueItem(invitation_guard(link.editor_id, str(link.invited_email)), ref=link.link_id),
            None,
        ),
        (
            "external_id_taken",
            "guard",
            UniqueItem(external_id_guard(link.editor_id, link.external_id), ref=link.link_id),
            None,
        ),
        ("link_exists", "put", link, UserEditorLinkItem.link_id.does_not_exist()),
    ]
    guard = (UniqueItem, pair_guard(link.artisan_id, link.editor_id))
    ops.append(("already_linked", "check", guard, UniqueItem.key.does_not_exist()))
    transact(ops)


def answer_invitation(link: UserEditorLinkItem, artisan_id: str, *, accept: bool, now: str) -> None:
    """The artisan's answer to a pending link, only while it is pending, unexpired and addressed to it. Accepting
    writes the (artisan, editor) guard in the same transaction: a link made meanwhile (a code) refuses it."""
    condition = (
        UserEditorLinkItem.link_id.exists()
        & (UserEditorLinkItem.artisan_id == artisan_id)
        & (UserEditorLinkItem.status == "pending")
        & (UserEditorLinkItem.invite_expires_at > now)
    )
    actions = [
        UserEditorLinkItem.status.set("active" if accept else "declined"),
        UserEditorLinkItem.responded_at.set(now),
    ]
    ops: list[tuple[str, str, Any, Any]] = [
        ("invitation_invalid", "update", UserEditorLinkItem(link.link_id), (actions, condition))
    ]
    if accept:
        ops.append(
            ("already_linked", "guard", UniqueItem(pair_guard(artisan_id, link.editor_id), ref=link.link_id), None)
        )
    transact(ops)


def set_link_branding(link_id: str, artisan_id: str, editor_id: str, branding: dict[str, Any] | None) -> None:
    """The branding an editor's link gives the artisan (its override, §15.2A), for this artisan and editor only."""
    action = UserEditorLinkItem.branding.set(branding) if branding else UserEditorLinkItem.branding.remove()
    condition = (
        UserEditorLinkItem.link_id.exists()
        & (UserEditorLinkItem.artisan_id == artisan_id)
        & (UserEditorLinkItem.editor_id == editor_id)
    )
    try:
        UserEditorLinkItem(link_id).update(actions=[action], condition=condition)
    except UpdateError as exc:
        if "ConditionalCheckFailed" in str(exc.cause_response_code or exc):
            raise Stale(link_id) from exc
        raise


def bearer_parties(
    artisan_id: str, editor_id: str, link_id: str
) -> tuple[UserItem | None, UserItem | None, UserEditorLinkItem | None]:
    """The artisan, the editor that minted its bearer and the link between them, in one consistent round trip
    (TransactGetItems): a deactivation, a removed role or a link turned off is seen by the next request."""
    from aimanager.dal.usage import transact_get

    artisan, editor, link = transact_get([(UserItem, artisan_id), (UserItem, editor_id), (UserEditorLinkItem, link_id)])
    return artisan, editor, link


def get_link(link_id: str) -> UserEditorLinkItem | None:
    try:
        return UserEditorLinkItem.get(link_id, consistent_read=True)
    except DoesNotExist:
        return None


def link_by_external_id(editor_id: str, external_id: str) -> UserEditorLinkItem | None:
    """One consistent GetItem on the guard, one on the link: never a foreign editor's link."""
    try:
        guard = UniqueItem.get(external_id_guard(editor_id, external_id), consistent_read=True)
    except DoesNotExist:
        return None
    link = get_link(guard.ref)
    return link if link is not None and link.editor_id == editor_id else None


def links_of_editor(editor_id: str) -> list[UserEditorLinkItem]:
    return list(UserEditorLinkItem.editor_id_index.query(editor_id))


def links_of_artisan(artisan_id: str) -> list[UserEditorLinkItem]:
    return list(UserEditorLinkItem.artisan_id_index.query(artisan_id))


# ------------------------------------------------------------------ link codes


def put_link_code(code: LinkCodeItem) -> None:
    code.save(condition=LinkCodeItem.code.does_not_exist())


def redeem_link_code(code: str, artisan_id: str, link: UserEditorLinkItem, now: str) -> None:
    """Mark the code used (only if unused and unexpired) and create the link, in one transaction."""
    transact(
        [
            (
                "code_invalid",
                "update",
                LinkCodeItem(code),
                (
                    [LinkCodeItem.redeemed_by.set(artisan_id)],
                    LinkCodeItem.code.exists()
                    & LinkCodeItem.redeemed_by.does_not_exist()
                    & (LinkCodeItem.expires_at > now),
                ),
            ),
            *link_ops(link),
        ]
    )


def get_link_code(code: str) -> LinkCodeItem | None:
    try:
        return LinkCodeItem.get(code, consistent_read=True)
    except DoesNotExist:
        return None


# ------------------------------------------------------------------ share links and their sessions


def create_share_session(session: SessionItem, share: ShareLinkItem) -> None:
    transact(
        [
            ("session_exists", "put", session, SessionItem.session_id.does_not_exist()),
            ("share_exists", "put", share, ShareLinkItem.jti.does_not_exist()),
        ]
    )


def get_share_link(jti: str) -> ShareLinkItem | None:
    try:
        return ShareLinkItem.get(jti, consistent_read=True)
    except DoesNotExist:
        return None


def revoke_share_link(jti: str, editor_id: str, now: str) -> None:
    """Revoke the caller's own link; another editor's jti is Stale (the service answers 404)."""
    try:
        ShareLinkItem(jti).update(
            actions=[ShareLinkItem.revoked_at.set(now)],
            condition=ShareLinkItem.jti.exists() & (ShareLinkItem.editor_id == editor_id),
        )
    except UpdateError as exc:
        if "ConditionalCheckFailed" in str(exc.cause_response_code or exc):
            raise Stale(jti) from exc
        raise


def sessions_of_artisan(artisan_id: str, limit: int = 100) -> list[SessionItem]:
    return list(SessionItem.artisan_id_index.query(artisan_id, scan_index_forward=False, limit=limit))


def count_sessions(deployment_key: str, since: str | None = None) -> int:
    condition = SessionItem.created_at >= since if since else None
    return int(SessionItem.deployment_key_index.count(deployment_key, range_key_condition=condition))
