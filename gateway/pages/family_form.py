"""The service form of a family filing (API 1.2): a block per member, added and removed without JavaScript.

The page posts every block under ``m<n>.<field>`` (``m2.given_name``; a
field's name never holds a dot) with the count of blocks in ``members``.
« Ajouter » and « Retirer » are submit buttons (``action=add``,
``action=remove-<n>``): the server renders the form again with one block more
or less, every typed value kept. Any other post files the family
(:mod:`gateway.requests.family`); its errors are shown in their block, and
the summary at the top links to each field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.requests.family import MemberError, member_fields, shared_fields
from gateway.requests.posted import PostedForm
from gateway.services import FieldError, FormField, Localized, MemberBlock
from gateway.web.form_hints import first_errors
from gateway.web.form_values import shown_values

_MEMBER_INPUT = re.compile(r"^m([1-9][0-9]?)\.(.+)$")

REMOVE = Localized("Retirer : {member}", "Remove: {member}")
AT_MOST = Localized(
    "Vous pouvez inscrire au plus {count} membres dans un même dépôt.",
    "You can add at most {count} members to one filing.",
)


@dataclass(frozen=True)
class FamilyPost:
    """A posted family form: the shared answers, each block's answers (in order) and the button pressed."""

    shared: PostedForm
    members: list[PostedForm]
    action: str


def read_post(raw: PostedForm, block: MemberBlock) -> FamilyPost:
    """Split a posted form into the shared answers and the members' blocks; blocks beyond the count are dropped."""
    count_text = raw.pop_text("members", "1")
    count = int(count_text) if count_text.isdigit() and len(count_text) <= 2 else 1
    count = min(max(count, 1), block.max_count)
    action = raw.pop_text("action")
    shared = PostedForm()
    blocks: dict[int, PostedForm] = {}
    for name, values in raw.items():
        found = _MEMBER_INPUT.match(name)
        if found is None:
            shared[name] = values
        else:
            blocks.setdefault(int(found.group(1)), PostedForm())[found.group(2)] = values
    return FamilyPost(shared, [blocks.get(index, PostedForm()) for index in range(1, count + 1)], action)


def apply_action(post: FamilyPost, block: MemberBlock) -> tuple[list[PostedForm], list[FieldError]] | None:
    """The blocks after « Ajouter » or « Retirer » (with a message when no block may be added); None to file."""
    members = list(post.members)
    if post.action == "add":
        if len(members) >= block.max_count:
            return members, [FieldError("", _formatted(AT_MOST, count=str(block.max_count)))]
        return [*members, PostedForm()], []
    if post.action.startswith("remove-") and post.action[7:].isdigit():
        index = int(post.action[7:])
        if 1 <= index <= len(members) and len(members) > 1:
            del members[index - 1]
        return members, []
    return None


def _formatted(text: Localized, **values: str) -> Localized:
    return Localized(text.fr.format(**values), (text.en or text.fr).format(**values))


def member_label(block: MemberBlock, index: int) -> Localized:
    """« Enfant 2 »: how the page names one member's block (its legend, its errors)."""
    return Localized(f"{block.label.fr} {index}", f"{block.label('en')} {index}")


def family_context(
    form: Sequence[FormField],
    block: MemberBlock,
    shared: Mapping[str, Any],
    members: Sequence[Mapping[str, Any]],
    errors: Sequence[MemberError],
    locale: str,
) -> dict[str, Any]:
    """What service_form.html needs for a family: the shared fields around the blocks, each block's answers, errors."""
    first = next(index for index, form_field in enumerate(form) if form_field.per_member)
    before = shared_fields(form[:first])
    after = shared_fields(form[first:])
    own = member_fields(form)
    blocks = []
    for index, answers in enumerate(members, 1):
        mine = [error.error for error in errors if error.member == index]
        label = member_label(block, index)
        blocks.append({
            "index": index,
            "prefix": f"m{index}.",
            "legend": label(locale),
            "remove": REMOVE(locale).format(member=label(locale)),
            "values": shown_values(own, answers),
            "field_errors": first_errors(mine),
        })  # fmt: skip
    shared_errors = [error.error for error in errors if error.member is None]
    labels = {form_field.name: form_field.label(locale) for form_field in form}
    lines = [
        {
            "href": f"#champ-{error.error.field}" if error.error.field else "",
            "label": labels.get(error.error.field, error.error.field) if error.error.field else "",
            "message": error.error.message,
        }
        for error in errors
        if error.member is None
    ]
    for error in errors:
        if error.member is not None:
            name = error.error.field
            member = member_label(block, error.member)(locale)
            lines.append({
                "href": f"#champ-m{error.member}.{name}",
                "label": f"{member} – {labels.get(name, name)}",
                "message": error.error.message,
            })  # fmt: skip
    return {
        "family": {
            "before": before,
            "after": after,
            "own": own,
            "blocks": blocks,
            "count": len(members),
            "add": block.add_label(locale) if len(members) < block.max_count else None,
            "summary": lines,
        },
        "values": shown_values(shared_fields(form), shared),
        "field_errors": first_errors(shared_errors),
        "errors": [error.error for error in errors],
    }
