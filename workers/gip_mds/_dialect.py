"""The GIP-MDS (GIP Modernisation des déclarations sociales) upstream dialect.

``POST /rest/v2/volontaires/recherche`` with ``{"nomFamille", "prenoms", "dateNaissance"}``;
answers 200 ``{"individus": [...]}``, one entry per person matching the identity, each with
its current and previous civic-service contracts. No match means not found; several mean the
identity is ambiguous (API Particulier's ``00391``). The worker and the simulator both build the
body with :func:`request_body`, so that cases are keyed on exactly what is sent.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from broker.civility import Civility
from broker.dialect import Renaming, Shape
from broker.errors import ProviderErrors

_BASE = ProviderErrors(label="GIP-MDS", number=31)
ERRORS = ProviderErrors(
    label="GIP-MDS",
    number=31,
    overrides={
        "not_found": replace(
            _BASE.not_found,
            detail=(
                "Le ou les paramètre(s) d'entrée n'existent pas, ne sont pas connus, ou ne "
                "comportent aucune information pour cet appel. Veuillez vérifier que votre "
                "recherche est couverte par le périmètre de l'API."
            ),
        )
    },
)

AMBIGUOUS_DETAIL = (
    "Les paramètres d'identité correspondent à plusieurs personnes. Nous ne pouvons pas fournir "
    "les informations de service civique pour cet individu."
)


class GipMdsCivility(Civility):
    """GIP-MDS finds a volunteer by names and full birth date; sex and birthplace are unused."""

    required: ClassVar[frozenset[str]] = frozenset(
        {"nomNaissance", "prenoms", "anneeDateNaissance", "moisDateNaissance", "jourDateNaissance"}
    )
    requires_birthplace_in_france: ClassVar[bool] = False


def request_body(params: GipMdsCivility) -> dict[str, Any]:
    """The upstream request for ``params`` (the simulator keys its cases on it too)."""
    return {
        "nomFamille": params.nomNaissance,
        "prenoms": list(params.prenoms or []),
        "dateNaissance": params.birth_date_text(),
    }


_CONTRAT: Shape = {
    "contrat_trouve": "trouve",
    "organisme_accueil": (
        "structureAccueil",
        {"siret": "siret", "raison_sociale": "raisonSociale"},
    ),
    "date_debut_contrat": "dateDebut",
    "date_fin_contrat": "dateFin",
}
RENAMING = Renaming(
    {"statut_actuel": ("contratEnCours", _CONTRAT), "statut_passe": ("contratAnterieur", _CONTRAT)}
)
