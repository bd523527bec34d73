"""The options an agent chooses from on a transition asking a choice (``Transition.choice``, plugin API 1.2).

The plugin offers them for one request (``guichet_transition_choices``: the
commune's schools teaching the child's level, say); the back office asks for
them when it shows the file and again when the transition is taken, so a
value the agent sends is checked against what is offered at that moment.
"""

from __future__ import annotations

import logging

from gateway.registry import Registry
from gateway.requests.errors import ServiceUnavailable
from gateway.requests.rules import ServiceRules, unavailable_on_failure
from gateway.services import Choice, FormValues, Localized, Transition

log = logging.getLogger(__name__)

#: the longest value a choice may have: it is kept in the history's ``reason`` column
CHOICE_VALUE_MAX = 60

CHOICE_REQUIRED = Localized("Choisissez une option dans la liste.", "Choose an option from the list.")


def transition_choices(
    registry: Registry, rules: ServiceRules, data: FormValues, transition: Transition
) -> tuple[Choice, ...]:
    """The options the plugin offers for ``transition`` on a request holding ``data``; () when it asks none."""
    if transition.choice is None:
        return ()
    with unavailable_on_failure(rules.key):
        found = registry.hooks.first(
            "guichet_transition_choices", only=rules.provided.plugin, data=data, transition=transition,
            **rules.hook_args,
        )  # fmt: skip
    options = tuple(found or ())
    for option in options:
        if not isinstance(option, Choice) or not 0 < len(option.value) <= CHOICE_VALUE_MAX:
            log.error(
                "plugin %s: transition %s of %s offers a choice that is not a Choice of 1 to %d characters: %r",
                rules.provided.plugin, transition.name, rules.key, CHOICE_VALUE_MAX, option,
            )  # fmt: skip
            raise ServiceUnavailable(rules.key, rules.provided.plugin)
    return options
