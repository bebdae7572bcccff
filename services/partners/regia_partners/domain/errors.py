"""Why the partners service refuses a command. Each maps to one HTTP status."""

from regia_shared.contracts.refusal import Refused


class PartnersError(Refused):
    status = 400
    code = "partners_error"


class PartnerNotFound(PartnersError):
    status, code = 404, "partner_not_found"


class Conflict(PartnersError):
    """The id is taken by something different: re-sending the same data is fine, changing
    it through a create is not (it would silently rewrite what others projected)."""

    status, code = 409, "conflict"


class InvalidPartner(PartnersError):
    status, code = 422, "invalid_partner"


class NotFound(PartnersError):
    """An objective role, network, membership or contact that does not exist."""

    status, code = 404, "not_found"


class ObjectiveNotFound(PartnersError):
    """A lead or role on an objective or plan node this service has not heard defined. It
    learns them from the objectives service's events, a moment after they are defined: the
    message says so, and a client that has just defined one retries."""

    status, code = 404, "objective_not_found"


class ContactErased(PartnersError):
    """A contact erased on request: its id stays, the person is gone, and nothing brings
    them back (a new contact is added instead)."""

    status, code = 410, "contact_erased"


class LinkRefused(PartnersError):
    """A link from an e-mail (an unsubscribe or preferences link) that is not Regia's,
    or no longer good: no credential, so 401 like any other."""

    status, code = 401, "invalid_link"


class LinkExpired(LinkRefused):
    code = "link_expired"


class LinkNotForThis(PartnersError):
    """A good link used for what it does not allow: an unsubscribe link changes nothing
    but its own kinds, and only to off."""

    status, code = 403, "forbidden"
