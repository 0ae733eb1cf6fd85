"""The error catalogue: every coded error the broker can answer, in one place.

Codes follow API Particulier: five digits, the first two the provider number (``00`` for the
broker itself), the last three the subcode. Providers declare their own entries through
:class:`ProviderErrors`; the broker's own live in :data:`BROKER`. Replies, docs and schemas all
read from here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "BROKER",
    "UNKNOWN_PARAMETERS_DETAIL",
    "ErrorSpec",
    "ProblemError",
    "ProviderErrors",
    "all_specs",
]


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """One entry of the catalogue: what an error object carries, and its status."""

    code: str
    status: int
    title: str
    detail: str
    provider: str | None = None
    """``meta.provider`` of the error object (API Particulier's label: ``CNAV``, ``DSNJ``...)."""
    retry_in: int | None = None
    """Seconds after which retrying may succeed; ``None`` when retrying does not help."""

    def error(
        self,
        *,
        parameter: str | None = None,
        detail: str | None = None,
        retry_in: int | None = None,
    ) -> dict[str, Any]:
        """The API Particulier error object for this entry."""
        meta: dict[str, Any] = {}
        if self.provider is not None:
            meta["provider"] = self.provider
        wait = retry_in if retry_in is not None else self.retry_in
        if wait is not None:
            meta["retry_in"] = wait
        return {
            "code": self.code,
            "title": self.title,
            "detail": detail or self.detail,
            "source": {"parameter": parameter} if parameter else None,
            "meta": meta,
        }


class ProblemError(Exception):
    """Raised anywhere on the path to answer with a coded error instead of data.

    The message is the code only: details may quote the request, so they stay out of
    exception texts and logs (invariant 5).
    """

    def __init__(
        self,
        spec: ErrorSpec,
        *,
        parameter: str | None = None,
        detail: str | None = None,
        retry_in: int | None = None,
    ) -> None:
        super().__init__(spec.code)
        self.spec = spec
        self.parameter = parameter
        self.detail = detail
        self.retry_in = retry_in

    @property
    def status(self) -> int:
        return self.spec.status

    def error(self) -> dict[str, Any]:
        return self.spec.error(parameter=self.parameter, detail=self.detail, retry_in=self.retry_in)


class _Catalogue:
    """A named group of specs; iterable so that docs and tests can list them."""

    def __iter__(self) -> Iterator[ErrorSpec]:
        for value in vars(type(self)).values():
            if isinstance(value, ErrorSpec):
                yield value
        for value in vars(self).values():
            if isinstance(value, ErrorSpec):
                yield value


_UNPROCESSABLE = "Entité non traitable"


class _Broker(_Catalogue):
    """Errors answered by the broker itself, whatever the provider (``00xxx``).

    ``001xx``-``005xx`` are API Particulier's own codes; ``008xx`` are this broker's additions
    for what only a message-driven service can get wrong (unreadable message, deadline...).
    """

    FORBIDDEN = ErrorSpec(
        "00100",
        403,
        "Privilèges insuffisants",
        "Aucune habilitation en cours de validité ne donne accès à ce jeu de données.",
    )
    RECIPIENT_MISSING = ErrorSpec(
        "00203",
        422,
        _UNPROCESSABLE,
        "Le paramètre recipient est obligatoire",
    )
    RECIPIENT_INVALID = ErrorSpec(
        "00210",
        422,
        _UNPROCESSABLE,
        "Le paramètre recipient n'est pas un numéro SIRET valide",
    )
    INE_INVALID = ErrorSpec(
        "00360",
        422,
        _UNPROCESSABLE,
        "Le numéro d'INE n'est pas correctement formatté",
    )
    CIVILITY_INVALID = ErrorSpec(
        "00366",
        422,
        _UNPROCESSABLE,
        "Un ou plusieurs paramètres de civilité ne sont pas correctement formatés",
    )
    PARAMS_INVALID = ErrorSpec(
        "00366",
        422,
        _UNPROCESSABLE,
        "Un ou plusieurs paramètres ne sont pas correctement formatés",
    )
    TAX_NUMBER_INVALID = ErrorSpec(
        "00370",
        422,
        _UNPROCESSABLE,
        "Le numéro fiscal n'est pas correctement formaté : 13 chiffres sont attendus",
    )
    TAX_NOTICE_INVALID = ErrorSpec(
        "00371",
        422,
        _UNPROCESSABLE,
        "La référence d'avis n'est pas correctement formatée : 13 ou 14 caractères sont attendus",
    )
    IDENTIFIER_MISSING = ErrorSpec("00380", 422, _UNPROCESSABLE, "L'identifiant est manquant")
    AMBIGUOUS_IDENTITY = ErrorSpec(
        "00391",
        422,
        _UNPROCESSABLE,
        "Les paramètres d'identité correspondent à plusieurs personnes.",
    )
    EXCLUSIVE_PARAMS = ErrorSpec(
        "00419",
        422,
        _UNPROCESSABLE,
        "Les paramètres codeEtablissement et périmètre (codesBcnRegions/codesBcnDepartements) "
        "sont mutuellement exclusifs",
    )
    SEX_MISSING = ErrorSpec("00427", 422, _UNPROCESSABLE, "Le sexe de l'état civil est manquant")
    RATE_LIMITED = ErrorSpec(
        "00429",
        429,
        "Trop de requêtes",
        "Vous avez effectué trop de requêtes",
        retry_in=1,
    )
    REGISTRATION_INVALID = ErrorSpec(
        "00430",
        422,
        _UNPROCESSABLE,
        "Le numéro d'immatriculation est manquant ou mal formé : AA-123-AA, ou 123 AB 45 avant "
        "2009",
    )
    NETWORK_ERROR = ErrorSpec(
        "00501",
        504,
        "Erreur réseau",
        "Problème de connexion au serveur distant. L'erreur peut venir soit du fournisseur, soit "
        "du broker. Il s'agit souvent d'une erreur temporaire.",
        retry_in=10,
    )
    UNREADABLE = ErrorSpec(
        "00801",
        400,
        "Message illisible",
        "Le corps du message n'est pas un objet JSON conforme au contrat.",
    )
    UNKNOWN_DATASET = ErrorSpec(
        "00802",
        422,
        "Jeu de données inconnu",
        "Le jeu de données demandé n'existe pas, ou pas dans cette version.",
    )
    DEADLINE_EXPIRED = ErrorSpec(
        "00803",
        504,
        "Délai dépassé",
        "Le délai fixé par le demandeur est écoulé : la demande n'a pas été transmise au "
        "fournisseur.",
    )
    INTERNAL = ErrorSpec(
        "00804",
        500,
        "Erreur interne",
        "Une erreur inattendue est survenue dans le broker. L'équipe technique a été notifiée.",
    )
    MESSAGE_ID_REUSED = ErrorSpec(
        "00805",
        409,
        "Identifiant de message déjà utilisé",
        "Ce message_id a déjà servi à une autre demande : chaque demande porte un message_id "
        "qui lui est propre.",
    )
    FRANCE_CONNECT_MALFORMED = ErrorSpec(
        "50001",
        401,
        "Jeton FranceConnect invalide",
        "Le jeton FranceConnect transmis n'a pas un format valide.",
    )
    FRANCE_CONNECT_INACTIVE = ErrorSpec(
        "50002",
        401,
        "Jeton FranceConnect invalide",
        "Le jeton FranceConnect transmis est inconnu, expiré ou inactif : l'usager doit se "
        "reconnecter avec FranceConnect.",
    )
    FRANCE_CONNECT_INSUFFICIENT = ErrorSpec(
        "50003",
        401,
        "Jeton FranceConnect insuffisant",
        "Le jeton FranceConnect ne porte pas les scopes ou l'identité nécessaires à ce jeu de "
        "données.",
    )
    FRANCE_CONNECT_NOT_SERVED = ErrorSpec(
        "00806",
        422,
        _UNPROCESSABLE,
        "Ce jeu de données n'est pas servi en mode FranceConnect.",
    )
    IDENTITY_NOT_SERVED = ErrorSpec(
        "00807",
        422,
        _UNPROCESSABLE,
        "Ce jeu de données n'est servi qu'en mode FranceConnect : la demande porte le jeton "
        "FranceConnect de l'usager (france_connect_token).",
    )
    AGENCY_NOT_NAMED = ErrorSpec(
        "00808",
        400,
        "Agence non précisée",
        "Un éditeur précise l'agence pour laquelle il agit (on_behalf_of : son nom ou son SIRET).",
    )
    TOKEN_INVALID = ErrorSpec(
        "00101", 401, "Interdit", "Votre token n'est pas valide ou n'est pas renseigné"
    )
    TOKEN_EXPIRED = ErrorSpec(
        "00103", 401, "Jeton expiré", "Votre token est expiré. Vous devez refaire une demande"
    )
    TOKEN_REVOKED = ErrorSpec(
        "00105",
        401,
        "Jeton sur liste noire",
        "Votre jeton est sur liste noire, celui-ci a certainement été divulgué sur un canal "
        "non-sécurisé.",
    )
    ROUTE_UNKNOWN = ErrorSpec(
        "00810", 404, "Route inconnue", "Cette route n'existe pas dans API Particulier."
    )
    METHOD_NOT_ALLOWED = ErrorSpec(
        "00811", 405, "Méthode non permise", "Les routes d'API Particulier se lisent en GET."
    )
    BODY_UNEXPECTED = ErrorSpec(
        "00812", 400, "Corps inattendu", "Une requête GET ne porte pas de corps."
    )
    QUERY_TOO_LONG = ErrorSpec(
        "00813", 414, "Requête trop longue", "La chaîne de requête dépasse 4 096 octets."
    )
    NOT_DELEGATED = ErrorSpec(
        "00809",
        403,
        "Délégation absente",
        "Aucune délégation en cours ne lie cet éditeur à cette agence ; seul un éditeur agit "
        "pour une autre agence que la sienne.",
    )


BROKER = _Broker()


UNKNOWN_PARAMETERS_DETAIL = (
    "Le ou les paramètre(s) d'entrée n'existent pas, ne sont pas connus, ou ne comportent "
    "aucune information pour cet appel. Veuillez vérifier que votre recherche est couverte par "
    "le périmètre de l'API."
)
"""API Particulier's ``detail`` of a not-found answer for providers that give no reason of
their own (DSNJ, GIP-MDS)."""


@dataclass(frozen=True)
class ProviderErrors(_Catalogue):
    """A provider's standard failures, with API Particulier's subcodes by default.

    A provider whose staging answers use other subcodes or titles passes its own specs;
    ``extra`` holds entries its mapping raises explicitly.
    """

    label: str
    number: int
    unavailable: ErrorSpec = field(init=False)
    timeout: ErrorSpec = field(init=False)
    not_found: ErrorSpec = field(init=False)
    rate_limited: ErrorSpec = field(init=False)
    dns: ErrorSpec = field(init=False)
    unknown: ErrorSpec = field(init=False)
    overrides: Mapping[str, ErrorSpec | Mapping[str, Any]] = field(default_factory=dict)
    """A standard failure replaced whole, or only the fields given (``{"detail": ...}``)."""
    not_found_detail: str | None = None
    """API Particulier's ``detail`` when this provider finds nobody, where it has its own."""
    extra: tuple[ErrorSpec, ...] = ()

    def __post_init__(self) -> None:
        n = f"{self.number:02d}"
        defaults = {
            "unavailable": ErrorSpec(
                f"{n}001",
                504,
                "Service non disponible",
                "Service du fournisseur de données temporairement indisponible ou en maintenance.",
                retry_in=30,
            ),
            "timeout": ErrorSpec(
                f"{n}002",
                504,
                "Intermédiaire hors-délai",
                "Temps d’attente d’une réponse du fournisseur de données écoulé.",
                retry_in=10,
            ),
            "not_found": ErrorSpec(
                f"{n}003",
                404,
                "Entité non trouvée",
                "Le ou les paramètres d'entrée ne correspondent à aucune entité connue du "
                "fournisseur.",
            ),
            "rate_limited": ErrorSpec(
                f"{n}008",
                429,
                "Erreur auprès du fournisseur de données : trop de requêtes",
                "Erreur de fournisseur de donnée : Trop de requêtes effectuées, veuillez "
                "réessayer plus tard.",
                retry_in=10,
            ),
            "dns": ErrorSpec(
                f"{n}004",
                504,
                "Erreur de résolution DNS",
                "Problème de résolution DNS de l'adresse du serveur",
                retry_in=30,
            ),
            "unknown": ErrorSpec(
                f"{n}999",
                502,
                "Erreur inconnue du fournisseur de données",
                "La réponse retournée par le fournisseur de données est invalide et inconnue "
                "de notre service. L'équipe technique a été notifiée de cette erreur pour "
                "investigation.",
            ),
        }
        for name, spec in defaults.items():
            chosen = self.overrides.get(name, spec)
            if not isinstance(chosen, ErrorSpec):
                chosen = replace(spec, **chosen)
            if name == "not_found" and self.not_found_detail is not None:
                chosen = replace(chosen, detail=self.not_found_detail)
            object.__setattr__(self, name, replace(chosen, provider=self.label))
        object.__setattr__(
            self, "extra", tuple(replace(s, provider=s.provider or self.label) for s in self.extra)
        )

    def __iter__(self) -> Iterator[ErrorSpec]:
        """Each code once: a provider may answer two failures alike (DSNJ's DNS failure is its
        server error)."""
        seen: set[str] = set()
        for spec in (
            self.unavailable,
            self.timeout,
            self.not_found,
            self.rate_limited,
            self.dns,
            self.unknown,
            *self.extra,
        ):
            if spec.code not in seen:
                seen.add(spec.code)
                yield spec

    def by_code(self, code: str) -> ErrorSpec | None:
        for spec in self:
            if spec.code == code:
                return spec
        return None


def all_specs() -> list[ErrorSpec]:
    """The broker's entries (deduplicated by code), for docs and schemas."""
    seen: dict[str, ErrorSpec] = {}
    for spec in BROKER:
        seen.setdefault(spec.code, spec)
    return list(seen.values())
