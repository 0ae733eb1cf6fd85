"""The ANTS upstream: the SIV (système d'immatriculation des véhicules), asked in SOAP.

``POST /siv/consultation`` with a ``ConsulterDossier`` holding the registration number; the
``ConsulterDossierReponse`` holds a ``codeRetour`` (``00`` when the file is there) and the
``dossier``: the registration, the vehicle, and every person attached to it (holder,
co-holders, lessee), physical or legal. Which of them the citizen is, the broker decides:
the first physical person whose family name and one first name match the FranceConnect
identity (the birth date is compared for information only), as API Particulier does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from broker.errors import BROKER, UNKNOWN_PARAMETERS_DETAIL, ErrorSpec, ProblemError, ProviderErrors
from broker.kit import (
    Answer,
    Civility,
    Endpoint,
    Envelope,
    ErrorCode,
    UpstreamCall,
    UpstreamRequest,
    UpstreamResponse,
    normalise_name,
)

from . import _soap

NOBODY_MATCHES = ErrorSpec(
    "42005",
    404,
    "Entité non trouvée",
    "Aucune personne physique rattachée à ce dossier d'immatriculation ne correspond à "
    "l'identité FranceConnect de l'usager.",
    provider="ANTS",
)
ERRORS = ProviderErrors(
    label="ANTS",
    number=42,
    overrides={"not_found": {"detail": UNKNOWN_PARAMETERS_DETAIL}},
    extra=(NOBODY_MATCHES,),
)

PATH = "siv/consultation"
OPERATION = "ConsulterDossier"
ANSWER = "ConsulterDossierReponse"
FOUND = "00"
UNKNOWN_FILE = "DOSSIER_INCONNU"

_SIV = re.compile(r"^([A-Z]{2})[- ]?(\d{3})[- ]?([A-Z]{2})$")
_FNI = re.compile(r"^(\d{1,4}) ?([A-Z]{1,3}) ?(\d{2}|2A|2B|97\d)$")


def registration_text(value: Any) -> Any:
    """A registration number as the SIV writes it: ``AA-123-AA`` (SIV, since 2009), or
    ``123 AB 45`` (FNI, before); case, spaces and dashes as typed do not matter."""
    if not isinstance(value, str):
        return value
    typed = value.strip().upper()
    if match := _SIV.match(typed):
        return "-".join(match.groups())
    if match := _FNI.match(typed):
        return " ".join(match.groups())
    return typed


class RegistrationParams(Civility):
    """The registration number, and the citizen's identity as FranceConnect gives it."""

    required: ClassVar[frozenset[str]] = frozenset()
    requires_birthplace_in_france: ClassVar[bool] = False

    immatriculation: Annotated[
        str,
        ErrorCode(BROKER.REGISTRATION_INVALID),
        BeforeValidator(registration_text),
        Field(pattern=f"{_SIV.pattern}|{_FNI.pattern}"),
    ]

    def subject(self) -> dict[str, Any]:
        return {**super().subject(), "immatriculation": self.immatriculation}


def request_of(params: RegistrationParams) -> UpstreamRequest:
    """The SOAP request for ``params``: the registration number alone."""
    content = _soap.document(OPERATION, {"numeroImmatriculation": params.immatriculation})
    return UpstreamRequest("POST", PATH, content=content, headers=_HEADERS)


_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f"{_soap.SIV}#{OPERATION}"}


def matching(params: Civility, identity: Mapping[str, Any]) -> dict[str, Any]:
    """How the FranceConnect identity in ``params`` compares with a person's ``identite``
    (API names): API Particulier's ``identity_matching``."""
    family = normalise_name(params.nomNaissance or "") == normalise_name(identity.get("nom") or "")
    given = bool(_first_names(params.prenoms or []) & _first_names([identity.get("prenom") or ""]))
    born = [params.anneeDateNaissance, params.moisDateNaissance, params.jourDateNaissance]
    recorded = [identity.get(f"{part}_date_naissance") for part in ("annee", "mois", "jour")]
    dated = born[0] is not None and all(
        b is None or b == r for b, r in zip(born, recorded, strict=True)
    )
    return {
        "family_name": float(family),
        "given_name": float(given),
        "birth_date": float(dated),
        "overall_match": family and given,
    }


def _first_names(names: list[str]) -> set[str]:
    return {
        word
        for name in names
        for word in normalise_name(name.replace(",", " ").replace("-", " ")).split()
    }


class Registration(Endpoint[RegistrationParams]):
    """The SIV's file: the record is the one physical person on it the citizen is."""

    def body_of(self, call: UpstreamCall, response: UpstreamResponse) -> Any:
        try:
            return _soap.read(response.content, ANSWER)
        except _soap.Unreadable:
            raise call.invalid() from None

    async def fetch(self, call: UpstreamCall, params: RegistrationParams) -> dict[str, Any]:
        dossier = await self.record_of(call, params)
        people = dossier.get("personnes") if isinstance(dossier, dict) else None
        people = people.get("personne") if isinstance(people, dict) else None
        people = people if isinstance(people, list) else [people]
        if not all(isinstance(person, dict) for person in people):
            raise call.invalid()
        for person in people:
            if person.get("nature") != "physique":
                continue
            identity = self.renaming.decode({"personne": person}).get("identite_particulier")
            if isinstance(identity, dict) and matching(params, identity)["overall_match"]:
                return self.decode(
                    call,
                    {
                        **dossier,
                        "personne": person,
                        "adresse": person.get("adresse"),
                        "rattachement": person.get("rattachement"),
                    },
                )
        raise ProblemError(NOBODY_MATCHES)

    def reply_meta(self, params: RegistrationParams, data: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"identity_matching": matching(params, data["identite_particulier"])}

    def success(
        self, data: Mapping[str, Any], *, before: tuple[dict[str, Any], ...] = ()
    ) -> Answer:
        """The SIV's file holding the person of ``data``, after the persons ``before`` (upstream
        names): the simulator's side."""
        encoded = dict(self.renaming.encode(data))
        person = {
            **encoded.pop("personne"),
            "nature": "physique",
            "rattachement": encoded.pop("rattachement"),
            "adresse": encoded.pop("adresse"),
        }
        dossier = {**encoded, "personnes": {"personne": [*before, person]}}
        return 200, self.envelope.wrap(dossier)


ENVELOPE = Envelope(record="dossier", error="codeRetour", ok=FOUND)
