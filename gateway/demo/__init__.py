"""The demo syndicate: seed data, agents' activity, the demo identity provider and the mailbox pages.

Floor 8: nothing in the core imports it. The application factory registers its
plugins (:data:`gateway.plugins.DEMO_PLUGINS`) only when ``gateway.demo = true``,
and ``guichet demo seed`` imports the seed modules. Importing the package adds
the demo provider to the identity providers' registry (see
:mod:`gateway.demo.identity_provider.relying_party`); that source gives nothing
unless ``demo_identity.enabled`` is on.

The demo's templates stay with the others under ``gateway/web/templates``
(``demo_idp/``, ``demo_outbox*.html``), where the one template loader and the
translation catalogue's extraction find them.
"""

from gateway.demo.identity_provider import relying_party as _relying_party  # noqa: F401  (registers the demo providers)
