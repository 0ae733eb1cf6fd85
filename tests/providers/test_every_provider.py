"""Every provider of the registry at provider level, through its simulator over real HTTP.

One suite for all: the staging cases, params validation, scope masking, upstream faults,
unknown and refused upstream answers, and the synthetic population. Whatever can be derived
from a provider's declarations (its errors, its endpoint, its example params) is; what cannot
(a provider's example identities, its broken answers, its known-quirk expectations) is in the
tables below, keyed by provider name (or by dataset id where one dataset differs). A provider's
real quirks are tested in its own ``test_<provider>.py``.
"""

from __future__ import annotations

import json
import socket
import time
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import BaseModel

from broker import registry
from broker.errors import BROKER, ErrorSpec, ProblemError
from broker.kit import Dataset, Provider, Upstream, validate_params
from broker.simulation import Case, Person, Population, load_cases
from workers.ants import _soap
from workers.ants._upstream import ANSWER, NOBODY_MATCHES, RegistrationParams
from workers.ants.extrait_immatriculation_vehicule import ENDPOINT as ANTS_ENDPOINT
from workers.ants.simulator import plate_of
from workers.cnav._benefits import NOT_FOUND_DETAIL
from workers.cnav._upstream import ABSENT_FROM, ABSENT_FROM_RNCPS
from workers.dgfip.simulator import reference_avis_of
from workers.sdh.simulator import identifiant_of

from ._data import BASE, PASSENGER_CAR, SAMPLE_RECORDS
from .conftest import (
    Outcome,
    RunningProvider,
    assert_scopes_partition,
    case_dirs,
    leaf_paths,
    outcome_matches,
    reference_scopes,
    upstream_answering,
)

DATASETS = registry.datasets()
PROVIDERS = sorted(registry.providers())


def _key(dataset: Dataset) -> str:
    return f"{dataset.id}.v{dataset.version}"


def _provider(dataset: Dataset) -> Provider:
    return registry.provider(dataset.provider_name)


def _pick(table: Mapping[str, Any], dataset: Dataset, default: Any = None) -> Any:
    """A table's entry for ``dataset``: by dataset id (``id.vN`` or ``id``), else by provider."""
    for key in (_key(dataset), dataset.id, dataset.provider_name):
        if key in table:
            return table[key]
    return default


def _dataset_ids(datasets: Sequence[Dataset]) -> list[str]:
    return [_key(d) for d in datasets]


each_dataset = pytest.mark.parametrize("dataset", DATASETS, ids=_dataset_ids(DATASETS))
each_provider = pytest.mark.parametrize("name", PROVIDERS)


def _clean(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if v is not None}


def _with(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes``; a change to ``None`` removes the parameter."""
    return _clean({**base, **changes})


def _without(raw: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k not in names}


def _at(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data


# Provider data the declarations cannot give


PUPIL = BASE["men"]
AREA = {"degreEtablissement": "2D", "codesBcnDepartements": ["013"]}
PUPIL_IN_AREA = {**_without(PUPIL, "codeEtablissement"), **AREA}


def _pupil(person: Person, **search: Any) -> dict[str, Any]:
    where = search or {"codeEtablissement": "0750652B"}
    return {**person.params(), "anneeScolaire": "2025", **where}


LOOKUPS: dict[str, Callable[[Person], list[dict[str, Any]]]] = {
    "ants": lambda p: [
        {"immatriculation": plate_of(p), **p.params()},
        {  # as typed, and the citizen as little as FranceConnect may say: one first name
            "immatriculation": plate_of(p).lower().replace("-", " "),
            "nomNaissance": p.nom_naissance.capitalize(),
            "prenoms": [p.prenoms[-1].lower()],
        },
    ],
    "cnav": lambda p: [p.params()],
    "cnous": lambda p: [{"ine": p.ine}, p.params()],
    "dgfip": lambda p: [{"numeroFiscal": p.numero_fiscal, "referenceAvis": reference_avis_of(p)}],
    "dsnj": lambda p: [p.params()],
    "france_travail": lambda p: [{"identifiant": p.identifiant}],
    "gip_mds": lambda p: [p.params()],
    "men": lambda p: [
        _pupil(p),
        _pupil(p, degreEtablissement="1D", codesBcnRegions=["11"]),
        _pupil(p, **AREA),
    ],
    "mesri": lambda p: [{"ine": p.ine}, p.params()],
    "sdh": lambda p: [{"identifiant": identifiant_of(p)}],
}
"""The params designating a synthetic person, in each way the provider is asked."""

SAME_RECORD_BY_EVERY_LOOKUP = {"ants", "cnous", "mesri"}
"""Providers answering the same record whichever way the person is designated."""

NOBODY: dict[str, Callable[[Person], list[dict[str, Any]]]] = {
    "ants": lambda p: [
        {**p.params(), "immatriculation": "T" + plate_of(p)[1:]},  # not a synthetic plate
        {**p.params(), "immatriculation": "SZ-999-ZZ"},  # beyond the population
        {**p.params(), "immatriculation": "123 AB 45"},  # an FNI number
    ],
    "cnav": lambda p: [
        _with(BASE["cnav"], {"nomNaissance": "INCONNU"}),
        {**p.params(), "anneeDateNaissance": p.date_naissance.year - 1},
    ],
    "cnous": lambda p: [
        {"nomNaissance": "INCONNU"},
        {**p.params(), "anneeDateNaissance": p.date_naissance.year - 1},
    ],
    "dgfip": lambda p: [
        {**LOOKUPS["dgfip"](p)[0], "referenceAvis": "2400000000000"},
        {**BASE["dgfip"], "numeroFiscal": "3900000000000"},
    ],
    "dsnj": lambda p: [{**p.params(), "jourDateNaissance": p.date_naissance.day % 28 + 1}],
    "france_travail": lambda p: [{"identifiant": "personne.inconnue"}],
    "gip_mds": lambda p: [],
    "men": lambda p: [{**PUPIL, "nomNaissance": "INCONNU"}, {**_pupil(p), "prenoms": ["ZOE"]}],
    "mesri": lambda p: [
        {**BASE["mesri"], "nomNaissance": "INCONNU"},
        {**p.params(), "sexeEtatCivil": "F" if p.sexe == "M" else "M"},
    ],
    "sdh": lambda p: [{"identifiant": "7"}, {"identifiant": "99999999"}],
}
"""Params designating nobody the provider knows, some close to a known person ``p``."""

NOBODY_ON_FILE: dict[str, tuple[ErrorSpec, Callable[[Person], list[dict[str, Any]]]]] = {
    "ants": (
        NOBODY_MATCHES,
        lambda p: [
            {**p.params(), "immatriculation": plate_of(p), "nomNaissance": "INCONNU"},
            {**p.params(), "immatriculation": plate_of(p), "prenoms": ["ZOE"]},
            {"immatriculation": plate_of(p), "nomNaissance": "LOUEUR AUTO SAS"},  # a lessor's
            {"immatriculation": plate_of(p)},
        ],
    ),
}
"""Providers that find a file, then the person asked for on it: params designating the file of
a known person ``p`` with an identity none of its people has, and the error answered (ANTS: the
citizen signed in is not on the vehicle's file, ``42005``, not its unknown file ``42003``)."""

ORGANISMS = [*ABSENT_FROM.values(), *ABSENT_FROM_RNCPS.values()]
"""The DSS's not-found answers naming the organism lacking the file: where a dataset has them,
a person known to no organism gets one of them (``test_cnav``)."""

NOT_FOUND_DETAIL_OF = {
    d.id: NOT_FOUND_DETAIL
    for d in registry.provider("cnav").datasets
    if d.name != "quotient_familial"
}
"""A not-found detail other than the provider's own."""

ECHOES: dict[str, Callable[[Person], dict[str, Any]]] = {
    "ants": lambda p: {
        "identite_particulier.nom": p.nom_naissance,
        "identite_particulier.prenom": " ".join(p.prenoms),
        "identite_particulier.annee_date_naissance": p.date_naissance.year,
        "identite_particulier.jour_date_naissance": p.date_naissance.day,
        "donnees_immatriculation_vehicule.numero_immatriculation": plate_of(p),
    },
    "cnous": lambda p: {
        "identite.nom": p.nom_naissance,
        "identite.date_naissance": p.date_naissance.isoformat(),
    },
    "dgfip": lambda p: {"declarant1.nom_naissance": p.nom_naissance},
    "france_travail.statut": lambda p: {
        "identifiant": p.identifiant,
        "identite.nom_naissance": p.nom_naissance,
        "identite.date_naissance": p.date_naissance.isoformat(),
        "identite.civilite": "MME" if p.sexe == "F" else "M.",
    },
    "france_travail.indemnites": lambda p: {"identifiant": p.identifiant},
    "men": lambda p: {"identite.nom": p.nom_naissance, "annee_scolaire": "2025-2026"},
    "mesri": lambda p: {"identite.nom_naissance": p.nom_naissance},
    "sdh": lambda p: {"identite.nom_naissance": p.nom_naissance},
}
"""What a synthetic person's record says of that person."""

PARTIAL_RECORDS = {"men"}
"""Providers whose records leave out the fields they do not know."""

EXAMPLE_IS_A_STAGING_CASE = {"ants", "cnous", "men", "mesri"}
EXAMPLE_ANSWERS: dict[str, dict[str, Any]] = {
    "dsnj": {"statut_service_national": "en_regle"},
    "france_travail": {"identifiant": "default"},
    "gip_mds": {"statut_actuel.contrat_trouve": True},
}
MIN_STAGING_CASES = {"ants": 10, "dgfip": 8, "dsnj": 8, "gip_mds": 6}
STAGING_ERRORS_VERBATIM = {"dgfip"}
"""Providers whose failing cases are answered with the case's very error objects."""

UNLISTED_SCOPES = {"cnous/etudiant_boursier_with_ine": {"cnous_ine"}}
"""Scopes that api-particulier-scopes.yml leaves out of one pivot's listing."""


def _citizen_of(case: Case) -> dict[str, Any]:
    """An ANTS case's params with the citizen FranceConnect names (:attr:`Case.citizen`)."""
    return {**case.params, **case.citizen}


STAGING_ASKED: dict[str, Callable[[Case], dict[str, Any]]] = {"ants": _citizen_of}
"""How a staging case is asked where its params are not the whole request: an ANTS case holds
the registration number only, the citizen's identity coming from FranceConnect (see
``shared/france-connect/README.md``)."""

REPLY_META = {"identity_matching"}
"""The entries of a staging answer's ``meta`` that the dataset's reply gives beside its data
(ANTS: how the identity matched); the rest of ``meta`` is the broker's."""


def _codes(number: str, *tails: str) -> set[str]:
    return {number + tail for tail in tails or ("001", "002", "003", "004", "008", "999")}


DSS_ORGANISMS = {"10003", "23003", "35003", "40003"}
DECLARED: dict[str, tuple[str, set[str], list[tuple[str, int]]]] = {
    "ants": ("ANTS", _codes("42", "001", "002", "003", "004", "005", "008", "999"),
             [("ants.extrait_immatriculation_vehicule", 3)]),
    "cnav": ("CNAV", _codes("37") | DSS_ORGANISMS, [(f"cnav.{n}", 3) for n in sorted(
        ["allocation_adulte_handicape", "allocation_enfant_handicape",
         "allocation_soutien_familial", "complementaire_sante_solidaire",
         "participation_familiale_eaje", "prime_activite", "quotient_familial",
         "revenu_solidarite_active"])]),
    "cnous": ("CNOUS", _codes("26"), [("cnous.etudiant_boursier", v) for v in (3, 4)]),
    "dgfip": ("DGFIP", _codes("27"), [("dgfip.situation_fiscale", 3)]),
    "dsnj": ("DSNJ", _codes("39", "001", "002", "003", "004", "005", "999"),  # 39004: quota
             [("dsnj.service_national", 3)]),
    "france_travail": ("France Travail", _codes("24"),
                       [("france_travail.indemnites", 3), ("france_travail.statut", 3)]),
    "gip_mds": ("GIP-MDS", _codes("31"), [("gip_mds.service_civique", 3)]),
    "men": ("MEN", _codes("30"), [("men.scolarites", v) for v in (3, 4)]),
    "mesri": ("MESRI", _codes("25"), [("mesri.statut_etudiant", 3)]),
    "sdh": ("SDH", _codes("37", "002", "003", "999") | _codes("41", "001", "004", "008"),
            [("sdh.statut_sportif", 3)]),
}  # fmt: skip
"""Label, error codes and datasets (id, version) of each provider."""


# Params tables


@dataclass(frozen=True)
class Refused:
    label: str
    raw: dict[str, Any]
    code: str | ErrorSpec
    """The code answered, or the very error spec."""
    parameter: str


@dataclass(frozen=True)
class Accepted:
    label: str
    raw: dict[str, Any]
    dump: dict[str, Any] | None = None
    """The validated params, in full, when the test says what they are."""
    like: dict[str, Any] | None = None
    """Other params these validate equal to."""


IDENTITY_REFUSED: dict[str, dict[str, Any]] = {
    "birth name missing": {"nomNaissance": None},
    "first names missing": {"prenoms": None},
    "eleven first names": {"prenoms": ["A"] * 11},
    "sex missing": {"sexeEtatCivil": None},
    "sex unknown": {"sexeEtatCivil": "X"},
    "year missing": {"anneeDateNaissance": None},
    "month missing": {"moisDateNaissance": None},
    "day missing": {"jourDateNaissance": None},
    "month out of range": {"moisDateNaissance": 13},
    "day out of range": {"jourDateNaissance": 32},
    "impossible date": {"moisDateNaissance": 2, "jourDateNaissance": 30},
    "birth in the future": {"anneeDateNaissance": 2090},
    "country not a COG code": {"codeCogInseePaysNaissance": "FR"},
}
"""Identity params several providers refuse alike, with 00366 naming the last one changed."""

RefusedRow = str | tuple[str, dict[str, Any], Any, str]
"""A case of :func:`_refused`: the label of an :data:`IDENTITY_REFUSED` case, or
``(label, changes, code, parameter)``."""


def _refused(base: Mapping[str, Any], rows: list[RefusedRow]) -> list[Refused]:
    """The cases of ``rows``, each applying its changes to ``base`` (the valid params)."""
    cases = [
        (row, IDENTITY_REFUSED[row], "00366", list(IDENTITY_REFUSED[row])[-1])
        if isinstance(row, str)
        else row
        for row in rows
    ]
    return [
        Refused(label, _with(base, changes), code, parameter)
        for label, changes, code, parameter in cases
    ]


ANTS = BASE["ants"]
CNAV = BASE["cnav"]
CNOUS = BASE["cnous"]
DGFIP = BASE["dgfip"]
DSNJ = BASE["dsnj"]
GIP = BASE["gip_mds"]
MESRI = BASE["mesri"]

PLATE = "immatriculation"
ANTS_DUMP = {**dict.fromkeys(RegistrationParams.model_fields), **ANTS}
ANTS_REFUSED = _refused(
    ANTS,
    [
        *[
            (f"registration number {label}", {PLATE: value}, BROKER.REGISTRATION_INVALID, PLATE)
            for label, value in [
                ("missing", None),
                ("empty", ""),
                ("blank", "   "),
                ("garbage", "garbage"),
                ("a digit short", "FC-12-AB"),
                ("a digit too many", "FC-1234-AB"),
                ("a letter too many", "FCD-123-AB"),
                ("with underscores", "FC_123_AB"),
                ("with a doubled dash", "FC--123-AB"),
                ("as a number", 123),
                ("in a list", ["FC-123-AB"]),
                ("FNI without département", "123 AB"),
                ("FNI with five digits", "12345 AB 45"),
                ("FNI with four letters", "123 ABCD 45"),
            ]
        ],
        "sex unknown",
        "month out of range",
        "impossible date",
        "birth in the future",
        ("eleven first names", {"prenoms": ["A"] * 11}, "00366", "prenoms"),
    ],
)
ANTS_ACCEPTED = [
    Accepted(
        "the registration number alone (FranceConnect names the citizen)",
        {PLATE: "FC-123-AB"},
        dump={**dict.fromkeys(RegistrationParams.model_fields), PLATE: "FC-123-AB"},
    ),
    *[
        Accepted(f"registration number {label}", {**ANTS, PLATE: typed}, like=ANTS)
        for label, typed in [
            ("in lower case with spaces", "fc 123 ab"),
            ("without separators", "FC123AB"),
            ("with mixed separators and spaces around", " fc-123 AB "),
        ]
    ],
    *[
        Accepted(label, {**ANTS, PLATE: typed}, dump={**ANTS_DUMP, PLATE: written})
        for label, typed, written in [
            ("an FNI number", "123 AB 45", "123 AB 45"),
            ("an FNI number unspaced, in lower case", "123ab45", "123 AB 45"),
            ("an FNI number in Corsica", "1234 abc 2a", "1234 ABC 2A"),
            ("an FNI number overseas", "12 AB 974", "12 AB 974"),
        ]
    ],
    Accepted("born in France without commune", {**ANTS, "codeCogInseePaysNaissance": "99100"}),
    Accepted(
        "first names in query style, unknown parameters",
        {**_without(ANTS, "prenoms"), "prenoms[]": ANTS["prenoms"], "token": "x"},
        like=ANTS,
    ),
]

CNAV_REFUSED = _refused(
    CNAV,
    [
        "birth name missing",
        ("birth name with a digit", {"nomNaissance": "DUP0NT"}, "00366", "nomNaissance"),
        ("use name with a dot", {"nomUsage": "ST.MARTIN"}, "00366", "nomUsage"),
        ("first name with a digit", {"prenoms": ["J3AN"]}, "00366", "prenoms"),
        ("empty first name", {"prenoms": [""]}, "00366", "prenoms"),
        "sex missing",
        "sex unknown",
        "month out of range",
        "day out of range",
        "impossible date",
        "birth in the future",
        ("year not a number", {"anneeDateNaissance": "mil"}, "00366", "anneeDateNaissance"),
        (
            "malformed orphan month",
            {"anneeDateNaissance": None, "moisDateNaissance": 14},
            "00366",
            "moisDateNaissance",
        ),
        "country not a COG code",
        (
            "commune malformed",
            {"codeCogInseeCommuneNaissance": "8480"},
            "00366",
            "codeCogInseeCommuneNaissance",
        ),
        (
            "born in France without commune",
            {"codeCogInseeCommuneNaissance": None},
            "00366",
            "codeCogInseeCommuneNaissance",
        ),
    ],
)
CNAV_ACCEPTED = [
    Accepted(label, _with(CNAV, changes))
    for label, changes in [
        ("unknown parameters", {"foo": "bar", "anneeNateNaissance": 1950}),
        ("no first name", {"prenoms": None}),
        (
            "no birth date",
            {"anneeDateNaissance": None, "moisDateNaissance": None, "jourDateNaissance": None},
        ),
        ("month and day without year", {"anneeDateNaissance": None}),
        ("day without month", {"moisDateNaissance": None}),
        ("no birth country", {"codeCogInseePaysNaissance": None}),
        (
            "born abroad without commune",
            {"codeCogInseePaysNaissance": "99131", "codeCogInseeCommuneNaissance": None},
        ),
        (
            "accents, hyphens and apostrophes",
            {"nomNaissance": "D'ÉTANG-MARTIN", "nomUsage": "D’ARTAGNAN", "prenoms": ["René"]},
        ),
        ("one first name as text", {"prenoms": "JEAN"}),
        ("lower-case sex", {"sexeEtatCivil": "m"}),
    ]
]

QUOTIENT_REFUSED = _refused(
    CNAV,
    [
        ("year of the quotient", {"annee": 1999}, "00366", "annee"),
        ("month of the quotient", {"mois": 13}, "00366", "mois"),
        (
            "no birth country",
            {"codeCogInseePaysNaissance": None},
            "00366",
            "codeCogInseePaysNaissance",
        ),
        "birth name missing",
    ],
)

CNOUS_REFUSED = [
    Refused("INE too short", {"ine": "123456789"}, "00360", "ine"),
    Refused("INE too long", {"ine": "123456789012"}, "00360", "ine"),
    Refused("INE with a dash", {"ine": "1234567890-"}, "00360", "ine"),
    Refused("INE empty", {"ine": ""}, "00360", "ine"),
    Refused("neither INE nor birth name", {"prenoms": ["JEAN"]}, "00366", "nomNaissance"),
    Refused("nothing at all", {}, "00366", "nomNaissance"),
    Refused(
        "birth name with a digit", {**CNOUS, "nomNaissance": "DUR4ND"}, "00366", "nomNaissance"
    ),
    Refused("first name with a comma", {**CNOUS, "prenoms": ["A,B"]}, "00366", "prenoms"),
    *_refused(CNOUS, ["sex unknown", "month out of range", "impossible date"]),
    Refused(
        "month without year",
        {"nomNaissance": "DURAND", "moisDateNaissance": 3},
        "00366",
        "anneeDateNaissance",
    ),
    Refused(
        "commune malformed",
        {**CNOUS, "codeCogInseeCommuneNaissance": "6912"},
        "00366",
        "codeCogInseeCommuneNaissance",
    ),
    Refused(
        "commune name without département",
        {"nomNaissance": "DURAND", "nomCommuneNaissance": "Lyon", "anneeDateNaissance": 2000},
        "00366",
        "nomCommuneNaissance",
    ),
]
CNOUS_ACCEPTED = [
    Accepted("INE alone", {"ine": "1234567890A"}),
    Accepted("INE in lower case", {"ine": " 1234567890a "}),
    Accepted("INE with an identity it does not use", {"ine": "1234567890A", "prenoms": ["A,B"]}),
    Accepted("birth name alone", {"nomNaissance": "NOEL"}),
    Accepted("full identity", CNOUS),
    Accepted("unknown parameters", {**CNOUS, "foo": "bar", "codeInsee": 1}),
    Accepted("no birthplace", _without(CNOUS, "codeCogInseeCommuneNaissance")),
    Accepted("accents and hyphens", {"nomNaissance": "D'ÉTANG-MARTIN", "prenoms": ["René"]}),
]

DGFIP_REFUSED = _refused(
    DGFIP,
    [
        ("tax number missing", {"numeroFiscal": None}, "00370", "numeroFiscal"),
        ("tax number too short", {"numeroFiscal": "145678901234"}, "00370", "numeroFiscal"),
        ("tax number too long", {"numeroFiscal": "14567890123456"}, "00370", "numeroFiscal"),
        ("tax number with a letter", {"numeroFiscal": "145678901234A"}, "00370", "numeroFiscal"),
        ("tax number in a list", {"numeroFiscal": ["1456789012345"]}, "00370", "numeroFiscal"),
        ("notice missing", {"referenceAvis": None}, "00371", "referenceAvis"),
        ("notice too short", {"referenceAvis": "2423A5678901"}, "00371", "referenceAvis"),
        ("notice too long", {"referenceAvis": "2423A5678901234"}, "00371", "referenceAvis"),
        ("notice with a dash", {"referenceAvis": "2423-56789012"}, "00371", "referenceAvis"),
    ],
)
DGFIP_ACCEPTED = [
    Accepted(
        "spaced, lower case and unknown parameters",
        {"numeroFiscal": "14 56 789 012 345", "referenceAvis": "24 23 a56 789 012", "x": 1},
        dump=DGFIP,
    ),
    Accepted(
        "14-character notice",
        {**DGFIP, "referenceAvis": "2423D12345678X"},
        dump={**DGFIP, "referenceAvis": "2423D12345678X"},
    ),
    Accepted(
        "tax number with a leading zero",
        {**DGFIP, "numeroFiscal": "0123456789012"},
        dump={**DGFIP, "numeroFiscal": "0123456789012"},
    ),
]

DSNJ_REFUSED = _refused(
    DSNJ,
    [
        ("sex missing", {"sexeEtatCivil": None}, BROKER.SEX_MISSING, "sexeEtatCivil"),
        "sex unknown",
        "birth name missing",
        ("birth name empty", {"nomNaissance": ""}, "00366", "nomNaissance"),
        "first names missing",
        ("first names empty", {"prenoms": []}, "00366", "prenoms"),
        "year missing",
        "month missing",
        "day missing",
        "month out of range",
        "impossible date",
        (
            "country missing",
            {"codeCogInseePaysNaissance": None},
            "00366",
            "codeCogInseePaysNaissance",
        ),
        "country not a COG code",
        (
            "commune missing",
            {"codeCogInseeCommuneNaissance": None},
            "00366",
            "codeCogInseeCommuneNaissance",
        ),
        (
            "commune malformed",
            {"codeCogInseeCommuneNaissance": "7505"},
            "00366",
            "codeCogInseeCommuneNaissance",
        ),
    ],
)
DSNJ_ACCEPTED = [
    Accepted(
        "born abroad without commune",
        {**_without(DSNJ, "codeCogInseeCommuneNaissance"), "codeCogInseePaysNaissance": "99134"},
    ),
    Accepted(
        "first names in query style, unknown parameters",
        {**_without(DSNJ, "prenoms"), "prenoms[]": DSNJ["prenoms"], "recipient": "13002526500013"},
        like=DSNJ,
    ),
    Accepted("lower-case sex", {**DSNJ, "sexeEtatCivil": "m"}, like=DSNJ),
]

IDENTIFIER_REFUSED = [
    Refused(label, raw, BROKER.IDENTIFIER_MISSING, "identifiant")
    for label, raw in [
        ("no identifier", {}),
        ("empty identifier", {"identifiant": ""}),
        ("blank identifier", {"identifiant": "   "}),
        ("identifier too long", {"identifiant": "x" * 101}),
        ("identifier in a list", {"identifiant": ["a"]}),
    ]
]
FRANCE_TRAVAIL_ACCEPTED = [
    Accepted(
        "trimmed, unknown parameters",
        {"identifiant": " jean.dupont33 ", "recipient": "1", "x": 2},
        dump={"identifiant": "jean.dupont33"},
    ),
    Accepted("a number", {"identifiant": 123456}, dump={"identifiant": "123456"}),
]

GIP_REFUSED = _refused(
    GIP,
    [
        "birth name missing",
        "first names missing",
        ("eleven first names", {"prenoms": ["A"] * 11}, "00366", "prenoms"),
        "year missing",
        "month missing",
        "day missing",
        "day out of range",
        (
            "no 29 February",
            {"anneeDateNaissance": 2001, "moisDateNaissance": 2, "jourDateNaissance": 29},
            "00366",
            "jourDateNaissance",
        ),
        ("year not a number", {"anneeDateNaissance": "deux mille"}, "00366", "anneeDateNaissance"),
    ],
)
GIP_ACCEPTED = [
    Accepted("no sex nor birthplace", GIP),
    Accepted("a birth country", {**GIP, "codeCogInseePaysNaissance": "99100"}),
    Accepted(
        "first names in query style",
        {**_without(GIP, "prenoms"), "prenoms[]": GIP["prenoms"]},
        like=GIP,
    ),
]

MEN_REFUSED = [
    Refused("school and area", {**PUPIL, **AREA}, "00419", "codeEtablissement"),
    Refused(
        "school and regions",
        {**PUPIL, "codesBcnRegions": ["11"], "degreEtablissement": "1D"},
        "00419",
        "codeEtablissement",
    ),
    Refused(
        "neither school nor area",
        _without(PUPIL, "codeEtablissement"),
        "00366",
        "codeEtablissement",
    ),
    Refused(
        "area without degree",
        {**_without(PUPIL, "codeEtablissement"), "codesBcnRegions": ["11"]},
        "00366",
        "degreEtablissement",
    ),
    Refused(
        "degree unknown",
        {**PUPIL_IN_AREA, "degreEtablissement": "3D"},
        "00366",
        "degreEtablissement",
    ),
    Refused(
        "départements and regions",
        {**PUPIL_IN_AREA, "codesBcnRegions": ["11"]},
        "00366",
        "codesBcnRegions",
    ),
    Refused(
        "département malformed",
        {**PUPIL_IN_AREA, "codesBcnDepartements": ["13"]},
        "00366",
        "codesBcnDepartements",
    ),
    Refused(
        "region malformed",
        {
            **_without(PUPIL, "codeEtablissement"),
            "degreEtablissement": "1D",
            "codesBcnRegions": ["ILE"],
        },
        "00366",
        "codesBcnRegions",
    ),
    Refused(
        "school code malformed",
        {**PUPIL, "codeEtablissement": "013003X"},
        "00366",
        "codeEtablissement",
    ),
    Refused("school year missing", _without(PUPIL, "anneeScolaire"), "00366", "anneeScolaire"),
    Refused("school year malformed", {**PUPIL, "anneeScolaire": "25-26"}, "00366", "anneeScolaire"),
    Refused("birth name missing", _without(PUPIL, "nomNaissance"), "00366", "nomNaissance"),
    Refused("first names missing", _without(PUPIL, "prenoms"), "00366", "prenoms"),
    Refused(
        "birth day missing", _without(PUPIL, "jourDateNaissance"), "00366", "jourDateNaissance"
    ),
    Refused(
        "impossible date",
        {**PUPIL, "moisDateNaissance": 2, "jourDateNaissance": 31},
        "00366",
        "jourDateNaissance",
    ),
    Refused("sex unknown", {**PUPIL, "sexeEtatCivil": "Z"}, "00366", "sexeEtatCivil"),
    Refused("first name with a digit", {**PUPIL, "prenoms": ["CL4RA"]}, "00366", "prenoms"),
]
MEN_ACCEPTED = [
    Accepted("in one school", PUPIL),
    Accepted("in départements", PUPIL_IN_AREA),
    Accepted(
        "in regions",
        {
            **_without(PUPIL, "codeEtablissement"),
            "degreEtablissement": "1d",
            "codesBcnRegions": ["11", "28"],
        },
    ),
    Accepted(
        "one département as text",
        {
            **_without(PUPIL, "codeEtablissement"),
            "degreEtablissement": "2D",
            "codesBcnDepartements": "02A",
        },
    ),
    Accepted("degree with a school", {**PUPIL, "degreEtablissement": "2D"}),
    Accepted("empty area with a school", {**PUPIL, "codesBcnRegions": []}),
    Accepted("school year as a span", {**PUPIL, "anneeScolaire": "2024-2025"}),
    Accepted("school year as a number", {**PUPIL, "anneeScolaire": 2025}),
    Accepted("school code in lower case", {**PUPIL, "codeEtablissement": "0130039x"}),
    Accepted("no sex", _without(PUPIL, "sexeEtatCivil")),
    Accepted("unknown parameters", {**PUPIL, "sexe": "F", "foo": 1}),
]

MESRI_REFUSED = [
    Refused("INE too short", {"ine": "123456789"}, "00360", "ine"),
    Refused("INE with a space inside", {"ine": "12345 67890"}, "00360", "ine"),
    Refused("INE not text", {"ine": ["1234567890A"]}, "00360", "ine"),
    Refused("nothing at all", {}, "00366", "nomNaissance"),
    *_refused(
        MESRI,
        [
            "birth name missing",
            "sex missing",
            "day missing",
            "year missing",
            ("sex unknown", {"sexeEtatCivil": "H"}, "00366", "sexeEtatCivil"),
            (
                "impossible date",
                {"moisDateNaissance": 4, "jourDateNaissance": 31},
                "00366",
                "jourDateNaissance",
            ),
            "birth in the future",
            ("birth name with brackets", {"nomNaissance": "MARTIN (DIT)"}, "00366", "nomNaissance"),
            (
                "commune malformed",
                {"codeCogInseeCommuneNaissance": "ABCDE"},
                "00366",
                "codeCogInseeCommuneNaissance",
            ),
        ],
    ),
]
MESRI_ACCEPTED = [
    Accepted("INE alone", {"ine": "655888578AE"}),
    Accepted("INE with a malformed identity", {"ine": "655888578AE", "jourDateNaissance": 40}),
    Accepted("full identity", MESRI),
    Accepted("no first name", _with(MESRI, {"prenoms": None, "prenom": "Lola"})),
    Accepted("no birthplace", _with(MESRI, {"codeCogInseeCommuneNaissance": None})),
    Accepted(
        "born abroad, country code as commune", {**MESRI, "codeCogInseeCommuneNaissance": "99424"}
    ),
    Accepted("unknown parameters", {**MESRI, "foo": "bar"}),
]

SDH_REFUSED = [
    Refused(
        f"identifier {value!r}",
        {} if value is None else {"identifiant": value},
        BROKER.IDENTIFIER_MISSING,
        "identifiant",
    )
    for value in [None, "", "  ", "12A45", "-12", "1" * 21, ["1"], 1.5]
]
SDH_ACCEPTED = [
    Accepted("trimmed", {"identifiant": " 0123 "}, dump={"identifiant": "0123"}),
    Accepted(
        "a number, unknown parameters",
        {"identifiant": 12345, "recipient": "x"},
        dump={"identifiant": "12345"},
    ),
]

REFUSED: dict[str, list[Refused]] = {
    "ants": ANTS_REFUSED,
    "cnav": CNAV_REFUSED,
    "cnav.quotient_familial": QUOTIENT_REFUSED,
    "cnous": CNOUS_REFUSED,
    "dgfip": DGFIP_REFUSED,
    "dsnj": DSNJ_REFUSED,
    "france_travail": IDENTIFIER_REFUSED,
    "gip_mds": GIP_REFUSED,
    "men": MEN_REFUSED,
    "mesri": MESRI_REFUSED,
    "sdh": SDH_REFUSED,
}
ACCEPTED: dict[str, list[Accepted]] = {
    "ants": ANTS_ACCEPTED,
    "cnav": CNAV_ACCEPTED,
    "cnav.quotient_familial": [Accepted("unknown parameters", _with(CNAV, {"foo": 1}))],
    "cnous": CNOUS_ACCEPTED,
    "dgfip": DGFIP_ACCEPTED,
    "dsnj": DSNJ_ACCEPTED,
    "france_travail": FRANCE_TRAVAIL_ACCEPTED,
    "gip_mds": GIP_ACCEPTED,
    "men": MEN_ACCEPTED,
    "mesri": MESRI_ACCEPTED,
    "sdh": SDH_ACCEPTED,
}


def _rows(table: Mapping[str, Sequence[Any]]) -> list[Any]:
    return [
        pytest.param(dataset, row, id=f"{_key(dataset)}-{row.label}")
        for dataset in DATASETS
        for row in _pick(table, dataset, ())
    ]


# Upstream answers tables

SIV_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}
ANTS_SAMPLE = SAMPLE_RECORDS["ants"][0]
LESSOR = {"nature": "morale", "rattachement": "titulaire", "nom": "LOUEUR AUTO SAS"}


def _siv(status: int, body: Mapping[str, Any]) -> httpx.Response:
    """An answer of the SIV (ANTS's upstream): ``body`` in a SOAP envelope."""
    return httpx.Response(status, content=_soap.document(ANSWER, body), headers=SIV_HEADERS)


def _siv_text(status: int, text: str) -> httpx.Response:
    return httpx.Response(status, content=text.encode(), headers=SIV_HEADERS)


def _siv_file(
    record: Mapping[str, Any] = ANTS_SAMPLE,
    *,
    before: tuple[dict[str, Any], ...] = (LESSOR,),
    **parts: Any,
) -> dict[str, Any]:
    """The SIV's body holding ``record``'s person on a file after the persons ``before``, the
    file's ``parts`` (upstream names: ``vehicule``, ``personnes``...) changed or replaced."""
    _, body = ANTS_ENDPOINT.success(record, before=before)
    dossier = body["dossier"]
    for name, part in parts.items():
        dossier[name] = {**dossier[name], **part} if isinstance(part, dict) else part
    return body


def _siv_envelope(inner: str, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    return (
        f'{prolog}<s:Envelope xmlns:s="{_soap.SOAP}"><s:Body>'
        f'<ConsulterDossierReponse xmlns="{_soap.SIV}">{inner}</ConsulterDossierReponse>'
        "</s:Body></s:Envelope>"
    )


ENTITY_FILE = (
    _soap.document(ANSWER, _siv_file())
    .decode()
    .replace("?>", '?><!DOCTYPE Envelope [<!ENTITY nom "DELATOUR">]>', 1)
    .replace(">DELATOUR<", ">&nom;<")
)
"""The sample file, the citizen's name written as an entity: valid once expanded, which it
never is."""

BROKEN_ANSWERS: dict[str, list[tuple[str, httpx.Response]]] = {
    "ants": [
        ("not XML", httpx.Response(200, text="maintenance")),
        ("JSON", httpx.Response(200, json=_siv_file())),
        ("malformed XML", _siv_text(200, _siv_envelope("<codeRetour>00</codeRetour>")[:-12])),
        (
            "an encoding nobody knows",
            _siv_text(
                200,
                _siv_envelope(
                    "<codeRetour>00</codeRetour>",
                    '<?xml version="1.0" encoding="x-inconnu"?>',
                ),
            ),
        ),
        ("not a SOAP envelope", _siv_text(200, f'<dossier xmlns="{_soap.SIV}"/>')),
        (
            "a SOAP body without the operation",
            httpx.Response(
                200, content=_soap.document("AutreReponse", _siv_file()), headers=SIV_HEADERS
            ),
        ),
        ("an entity declared", _siv_text(200, ENTITY_FILE)),
        ("a SOAP fault with 400", httpx.Response(400, content=_soap.fault("x", client=True))),
        ("technical error", _siv(200, {"codeRetour": "ERREUR_TECHNIQUE"})),
        ("unknown return code with 400", _siv(400, {"codeRetour": "AUTRE"})),
        ("a file with 404", _siv(404, _siv_file())),
        ("no return code", _siv(200, {"dossier": _siv_file()["dossier"]})),
        ("no file", _siv(200, {"codeRetour": "00"})),
        ("file not an object", _siv(200, {"codeRetour": "00", "dossier": "illisible"})),
        ("persons not a list", _siv(200, _siv_file(personnes="illisible"))),
        ("wrong type", _siv(200, _siv_file(vehicule={"ptac": "lourd"}))),
        (
            "unknown fuel code",
            _siv(200, _siv_file(vehicule={"energie": {"code": "XX", "libelle": "?"}})),
        ),
        (
            "the citizen without address",
            _siv(
                200,
                _siv_file(
                    personnes={
                        "personne": [
                            {
                                **ANTS_ENDPOINT.renaming.encode(ANTS_SAMPLE)["personne"],
                                "nature": "physique",
                                "rattachement": "titulaire",
                            }
                        ]
                    }
                ),
            ),
        ),
    ],
    "cnav": [
        ("not json", httpx.Response(200, content=b"<html>maintenance</html>")),
        ("no resultat", httpx.Response(200, json={"codeRetour": "00"})),
        ("resultat not an object", httpx.Response(200, json={"codeRetour": "00", "resultat": [1]})),
        (
            "wrong type",
            httpx.Response(
                200,
                json={
                    "codeRetour": "00",
                    "resultat": {"droitOuvert": "peut-etre", "dateOuvertureDroit": None},
                },
            ),
        ),
        ("unknown return code", httpx.Response(400, json={"codeRetour": "AUTRE"})),
    ],
    "cnous": [
        ("not json", httpx.Response(200, content=b"<html>maintenance</html>")),
        ("not an object", httpx.Response(200, json=[1, 2])),
        ("no student", httpx.Response(200, json={"boursier": True})),
        (
            "wrong type",
            httpx.Response(200, json={"etudiant": {"nomFamille": "A", "civilite": "X"}}),
        ),
        ("error body with 200", httpx.Response(200, json={"erreur": "ETUDIANT_NON_TROUVE"})),
        ("unknown error code", httpx.Response(400, json={"erreur": "AUTRE"})),
    ],
    "dgfip": [
        ("not json", httpx.Response(200, text="<html/>")),
        ("situation not an object", httpx.Response(200, json={"situationIr": "ILLISIBLE"})),
        ("wrong type", httpx.Response(200, json={"situationIr": {"nbPart": "deux"}})),
        ("no situation", httpx.Response(200, json={"autre": {}})),
        ("unknown error code", httpx.Response(403, json={"code": "HABILITATION"})),
    ],
    "dsnj": [
        ("not json", httpx.Response(200, text="maintenance")),
        (
            "unknown status",
            httpx.Response(200, json={"situationServiceNational": {"statut": "EXEMPTE"}}),
        ),
        ("no situation", httpx.Response(200, json={"autre": {}})),
        ("unknown error code", httpx.Response(403, json={"erreur": {"code": "AUTRE"}})),
        ("error not an object", httpx.Response(400, json=["erreur"])),
    ],
    "france_travail": [
        ("not json", httpx.Response(200, text="<html>maintenance</html>")),
        (
            "job seeker not an object",
            httpx.Response(200, json={"demandeur": "illisible", "versements": 3}),
        ),
        (
            "wrong type",
            httpx.Response(200, json={"demandeur": {"loginUsager": 1}, "loginUsager": None}),
        ),
        ("unknown error code", httpx.Response(403, json={"codeErreur": "ACCES_REFUSE"})),
    ],
    "gip_mds": [
        ("not json", httpx.Response(200, text="<html/>")),
        ("anomaly with 200", httpx.Response(200, json={"anomalie": "ERREUR_TECHNIQUE"})),
        ("individual not an object", httpx.Response(200, json={"individus": ["x"]})),
        (
            "wrong type",
            httpx.Response(200, json={"individus": [{"contratEnCours": {"trouve": "peut-etre"}}]}),
        ),
        ("no individual with 404", httpx.Response(404, json={"individus": []})),
    ],
    "men": [
        ("not json", httpx.Response(200, content=b"<html/>")),
        ("no pupil", httpx.Response(200, json={"scolarise": True})),
        ("echelon out of range", httpx.Response(200, json={"eleve": {}, "echelonBourse": 9})),
        ("malformed school year", httpx.Response(200, json={"eleve": {}, "anneeScolaire": "25"})),
        ("errors with 200", httpx.Response(200, json={"erreurs": [{"code": "ELEVE_NON_TROUVE"}]})),
        ("unknown error code", httpx.Response(400, json={"erreurs": [{"code": "AUTRE"}]})),
        ("empty errors", httpx.Response(404, json={"erreurs": []})),
    ],
    "mesri": [
        ("not json", httpx.Response(200, content=b"maintenance")),
        ("no admissions", httpx.Response(200, json={"etudiant": {"nomNaissance": "A"}})),
        ("admissions not a list", httpx.Response(200, json={"etudiant": {}, "inscriptions": {}})),
        (
            "malformed UAI",
            httpx.Response(
                200, json={"etudiant": {}, "inscriptions": [{"etablissement": {"uai": "PARIS"}}]}
            ),
        ),
        ("anomaly with 200", httpx.Response(200, json={"anomalie": {"code": "ETUDIANT_INCONNU"}})),
        ("unknown anomaly", httpx.Response(409, json={"anomalie": {"code": "AUTRE"}})),
    ],
    "sdh": [
        ("not json", httpx.Response(200, text="<html/>")),
        ("not an object", httpx.Response(200, json=["sportif"])),
        ("wrong type", httpx.Response(200, json={"sportif": {"genre": "X"}})),
        ("unknown error code", httpx.Response(409, json={"code": "ETAT_INCOHERENT"})),
    ],
}
"""Upstream answers that are no answer: each is the provider's unknown error."""


@dataclass(frozen=True)
class Refusal:
    label: str
    answer: httpx.Response
    status: int
    code: str
    parameter: str | None = None
    meta: dict[str, Any] | None = None


REFUSALS: dict[str, list[Refusal]] = {
    "ants": [
        Refusal(
            "file unknown",
            _siv(200, {"codeRetour": "DOSSIER_INCONNU"}),
            404,
            "42003",
            meta={"provider": "ANTS"},
        ),
        Refusal(
            "a legal person only, of the citizen's name",
            _siv(
                200,
                _siv_file(personnes={"personne": {**LESSOR, "nom": "DELATOUR"}}),
            ),
            404,
            "42005",
            meta={"provider": "ANTS"},
        ),
        Refusal(
            "someone else's file",
            _siv(
                200,
                _siv_file(
                    {
                        **ANTS_SAMPLE,
                        "identite_particulier": {
                            **ANTS_SAMPLE["identite_particulier"],
                            "nom": "DELACOUR",
                        },
                    }
                ),
            ),
            404,
            "42005",
        ),
    ],
    "dgfip": [
        Refusal(
            "tax number",
            httpx.Response(400, json={"code": "SPI_INVALIDE"}),
            422,
            "00370",
            "numeroFiscal",
        ),
        Refusal(
            "notice",
            httpx.Response(400, json={"code": "REFERENCE_AVIS_INVALIDE"}),
            422,
            "00371",
            "referenceAvis",
        ),
    ],
    "dsnj": [
        Refusal(
            "partner not authorised",
            httpx.Response(403, json={"erreur": {"code": "PARTENAIRE_NON_HABILITE"}}),
            403,
            "39001",
            meta={"provider": "DSNJ"},
        ),
    ],
    "gip_mds": [
        Refusal(
            "several individuals", httpx.Response(200, json={"individus": [{}, {}]}), 422, "00391"
        ),
    ],
    "sdh": [
        Refusal(
            "identifier", httpx.Response(400, json={"code": "IDENTIFIANT_INVALIDE"}), 422, "00366"
        ),
    ],
}
"""Upstream refusals answered with a broker code (ANTS's: its own not-found codes), as the
provider's upstream sends them."""

HAND_WRITTEN_FILE = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="{_soap.SOAP}"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <soapenv:Header/>
  <soapenv:Body>
    <ConsulterDossierReponse xmlns="{_soap.SIV}">
      <codeRetour>00</codeRetour>
      <dossier>
        <immatriculation>
          <numero>FC-123-AB</numero>
          <datePremiereImmatriculation>2021-04-16</datePremiereImmatriculation>
          <location><code>LLD</code><libelle>Location Longue Durée</libelle></location>
        </immatriculation>
        <vehicule>
          <marque>PEUGEOT</marque>
          <tvv>FCDEF-G1H234</tvv>
          <denominationCommerciale>3008</denominationCommerciale>
          <ptac>1890</ptac>
          <categorie><code>M1</code><libelle>Véhicule particulier</libelle></categorie>
          <genre><code>VP</code><libelle>Véhicule Particulier</libelle></genre>
          <cylindree>1598</cylindree>
          <energie><code>EH</code><libelle>Hybride</libelle></energie>
          <co2>115.5</co2>
          <classeEnvironnementale>
            <code>Euro 6d</code><libelle>Euro 6d</libelle>
          </classeEnvironnementale>
        </vehicule>
        <personnes>
          <personne>
            <nature>morale</nature><rattachement>titulaire</rattachement><nom>DELATOUR SA</nom>
          </personne>
          <personne>
            <nature>physique</nature>
            <rattachement>locataire</rattachement>
            <nom>DELATOUR</nom>
            <prenom>THOMAS</prenom>
            <sexe>M</sexe>
            <anneeNaissance>1985</anneeNaissance>
            <moisNaissance>03</moisNaissance>
            <jourNaissance>15</jourNaissance>
            <departementNaissance>75</departementNaissance>
            <adresse>
              <complement xsi:nil="true"/>
              <numeroVoie>12</numeroVoie>
              <typeVoie>RUE</typeVoie>
              <libelleVoie>DE LA PAIX</libelleVoie>
              <codePostal>75011</codePostal>
              <commune>PARIS</commune>
              <lieuDit/>
              <etageEscalierAppartement>  </etageEscalierAppartement>
              <extension xsi:nil="true"/>
              <pays>FRANCE</pays>
            </adresse>
          </personne>
        </personnes>
      </dossier>
    </ConsulterDossierReponse>
  </soapenv:Body>
</soapenv:Envelope>
"""
"""A SIV answer as another SOAP stack writes it: other prefixes, a default namespace, a header,
indentation; numbers with leading zeros, empty and nil elements, digits that are text."""

HAND_WRITTEN_DATA = {
    "identite_particulier": {
        "nom": "DELATOUR",
        "prenom": "THOMAS",
        "sexe_etat_civil": "M",
        "annee_date_naissance": 1985,
        "mois_date_naissance": 3,
        "jour_date_naissance": 15,
        "code_departement_naissance": "75",
    },
    "adresse_particulier": {
        "complement_information": None,
        "num_voie": "12",
        "type_voie": "RUE",
        "libelle_voie": "DE LA PAIX",
        "code_postal_ville": "75011",
        "libelle_commune": "PARIS",
        "lieu_dit": None,
        "etage_escalier_appartement": None,
        "extension": None,
        "pays": "FRANCE",
    },
    "statut_rattachement": "locataire",
    "donnees_immatriculation_vehicule": {
        "numero_immatriculation": "FC-123-AB",
        "date_premiere_immatriculation": "2021-04-16",
        "statut_location": {"code": "LLD", "label": "Location Longue Durée"},
    },
    "caracteristiques_techniques_vehicule": {
        "marque": "PEUGEOT",
        "type_variante_version": "FCDEF-G1H234",
        "denomination_commerciale": "3008",
        "masse_charge_maximale": 1890,
        **PASSENGER_CAR,
        "cylindree": 1598,
        "type_carburant": {"code": "EH", "label": "Hybride"},
        "taux_co2": 115.5,
        "classe_environnementale": {"code": "Euro 6d", "label": "Euro 6d"},
    },
}

DECODED: dict[str, list[tuple[str, httpx.Response, dict[str, Any]]]] = {
    "ants": [
        ("a file with nulls, after a legal person", _siv(200, _siv_file()), ANTS_SAMPLE),
        (
            "a file as another SOAP stack writes it",
            _siv_text(200, HAND_WRITTEN_FILE),
            HAND_WRITTEN_DATA,
        ),
    ],
    "cnav.revenu_solidarite_active": [
        (
            "missing optional fields",
            httpx.Response(200, json={"codeRetour": "00", "resultat": {"droitOuvert": False}}),
            {"est_beneficiaire": False},
        )
    ],
    "cnous.etudiant_boursier.v4": [
        (
            "missing optional fields",
            httpx.Response(
                200, json={"statut": {"boursier": True}, "etudiant": {"nomFamille": "A"}}
            ),
            {"statut_boursier": {"est_boursier": True}, "identite": {"nom": "A"}},
        )
    ],
    "men.scolarites.v4": [
        (
            "nulls and absent fields",
            httpx.Response(
                200,
                json={"eleve": {"nom": "A"}, "boursier": False, "echelonBourse": None, "mef": None},
            ),
            {
                "identite": {"nom": "A"},
                "est_boursier": False,
                "echelon_bourse": None,
                "module_elementaire_formation": None,
            },
        )
    ],
}
"""Upstream records and the data they decode to."""


def _json(status: int, body: Mapping[str, Any]) -> httpx.Response:
    return httpx.Response(status, json=body)


WIRE: dict[str, Callable[[int, Mapping[str, Any]], httpx.Response]] = {"ants": _siv}
"""How an upstream sends an answer (status, body), where it does not speak JSON."""


async def _fetch(
    dataset: Dataset, answer: httpx.Response, raw: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Fetch ``dataset`` from an upstream answering ``answer``, with the provider's base params."""
    name = dataset.provider_name
    params = validate_params(dataset.params, BASE[name] if raw is None else raw)
    async with upstream_answering(name, _provider(dataset).errors, answer) as upstream:
        return await dataset.fetch(upstream.call(None), params)


async def _refused_upstream(dataset: Dataset, answer: httpx.Response) -> ProblemError:
    with pytest.raises(ProblemError) as caught:
        await _fetch(dataset, answer)
    return caught.value


# Case files written by the tests


@dataclass(frozen=True)
class CaseFile:
    params: dict[str, Any]
    status: int
    payload: dict[str, Any]
    version: int = 3
    pivot: str = "civility"
    ask: dict[str, Any] | None = None
    """The params asked, when not the case's own."""
    first_error: dict[str, Any] = field(default_factory=dict)
    """Entries the answer's first error must hold."""
    detail_contains: str | None = None


def _errors(code: str, label: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "title": label, "detail": label, "source": None}]}


def _sdh_error(code: str) -> dict[str, Any]:
    return {
        "errors": [
            {"code": code, "title": "t", "detail": "d", "source": None, "meta": {"provider": "SDH"}}
        ]
    }


CNOUS_INE = {"ine": "2222222222Z"}
SAME_INE_RECORDS: dict[int, dict[str, Any]] = {
    3: {"est_boursier": True, "email": "a@b.fr", "identite": {"nom": "A"}},
    4: {
        "statut_boursier": {"est_boursier": False, "est_radie": True, "date_radiation": None},
        "identite": {"nom": "B"},
    },
}
ANTS_FILE_NUMBER = {"immatriculation": "AB-123-CD"}
UNKNOWN, REFUSED_IDENTITY = ("unknown answer", 502), ("identity refused by the provider", 422)
FAILURE_CASES: list[tuple[str, int, str, dict[str, Any], list[tuple[str, int, str]]]] = [
    ("cnous.etudiant_boursier", 4, "ine", CNOUS_INE, [
        (*UNKNOWN, "26999"), ("provider timeout", 504, "26002"), (*REFUSED_IDENTITY, "00366"),
        ("INE refused by the provider", 422, "00360")]),
    ("men.scolarites", 4, "civility", PUPIL_IN_AREA, [
        (*UNKNOWN, "30999"), ("rate limited by the provider", 429, "30008"),
        (*REFUSED_IDENTITY, "00366")]),
    ("mesri.statut_etudiant", 3, "civility", MESRI, [
        (*UNKNOWN, "25999"), ("provider unavailable", 504, "25001"), (*REFUSED_IDENTITY, "00366")]),
    ("ants.extrait_immatriculation_vehicule", 3, "france_connect", ANTS_FILE_NUMBER, [
        (*UNKNOWN, "42999"), ("provider timeout", 504, "42002"),
        ("provider unavailable", 504, "42001"), ("rate limited by the provider", 429, "42008"),
        ("file unknown", 404, "42003")]),
]  # fmt: skip
"""Failing cases written for a dataset: (label, status, code) under one version and pivot."""

ANTS_CITIZEN = {
    "nomNaissance": "Delatour",
    "prenoms": ["Thomas"],
    "anneeDateNaissance": 1985,
    "moisDateNaissance": 1,
    "jourDateNaissance": 1,
}
"""The sample ANTS record's citizen, as FranceConnect may name him."""

CASE_FILES: list[tuple[str, str, list[CaseFile]]] = [
    *[
        (dataset_id, label, [CaseFile(params, status, _errors(code, label), version, pivot)])
        for dataset_id, version, pivot, params, failures in FAILURE_CASES
        for label, status, code in failures
    ],
    (
        "cnous.etudiant_boursier",
        "same INE, each version its own shape",
        [
            CaseFile({"ine": "1111111111X"}, 200, {"data": data}, v, "ine", {"ine": "1111111111x"})
            for v, data in SAME_INE_RECORDS.items()
        ],
    ),
    (
        "men.scolarites",
        "a search without sex reaches the provider",
        [
            CaseFile(
                {**_without(PUPIL, "sexeEtatCivil"), "sexe": "M"},
                504,
                {"errors": [{"code": "30002", "title": "Intermédiaire hors-délai"}]},
            )
        ],
    ),
    (
        "mesri.statut_etudiant",
        "a case file without data envelope",
        [
            CaseFile(
                {"ine": "1234567890A"},
                200,
                {
                    "identite": {"nom_naissance": "Dupont"},
                    "admissions": [{"date_fin": "2021-06-31"}],
                },
                pivot="ine",
            )
        ],
    ),
    (
        "cnav.allocation_adulte_handicape",
        "a case file without data envelope",
        [CaseFile(CNAV, 200, {"est_beneficiaire": True, "date_debut_droit": "2022-11-29"})],
    ),
    (
        "gip_mds.service_civique",
        "an ambiguous identity",
        [
            CaseFile(
                {**GIP, "nomNaissance": "HOMONYME"},
                422,
                {"errors": [BROKER.AMBIGUOUS_IDENTITY.error()]},
                first_error={"meta": {}},
                detail_contains="service civique",
            )
        ],
    ),
    (
        "ants.extrait_immatriculation_vehicule",
        "a file found by its number however typed",
        [
            CaseFile(
                {"immatriculation": "123ab45"},
                200,
                {"data": ANTS_SAMPLE, "links": {}, "meta": {}},
                pivot="france_connect",
                ask={"immatriculation": " 123 AB 45", **ANTS_CITIZEN},
            ),
            CaseFile(
                {"immatriculation": "ab 123 cd"},
                404,
                _errors("42003", "file unknown"),
                pivot="france_connect",
                ask={"immatriculation": "AB-123-CD", **ANTS_CITIZEN},
            ),
        ],
    ),
    (
        "sdh.statut_sportif",
        "cases of every kind",
        [
            CaseFile(
                {"identifiant": "777"},
                200,
                {"data": SAMPLE_RECORDS["sdh"][0], "links": {}, "meta": {}},
                pivot="identifiant",
            ),
            CaseFile({"identifiant": "54321"}, 404, _sdh_error("37003"), pivot="identifiant"),
            CaseFile(
                {"identifiant": "43210"},
                422,
                {"errors": [BROKER.PARAMS_INVALID.error()]},
                pivot="identifiant",
                first_error={"source": None},
            ),
            CaseFile({"identifiant": "24680"}, 502, _sdh_error("37999"), pivot="identifiant"),
            CaseFile({"identifiant": "13579"}, 504, _sdh_error("37002"), pivot="identifiant"),
        ],
    ),
]
"""Cases the tests write themselves: each set is served alone and answered as written."""


# Helpers over a running provider


def _found(population: Population, count: int = 10) -> list[Person]:
    """The first known people of the population (among the first 40)."""
    return [p for p in (population.person(i) for i in range(40)) if p.found][:count]


def _person(population: Population, *, found: bool) -> Person:
    return next(p for p in population if p.found is found)


def _asked(dataset: Dataset, case: Case) -> dict[str, Any]:
    """The params a staging case is asked with: its own, unless :data:`STAGING_ASKED` says."""
    asked: dict[str, Any] = _pick(STAGING_ASKED, dataset, lambda c: dict(c.params))(case)
    return asked


def _params(dataset: Dataset, population: Population) -> dict[str, Any]:
    """A known synthetic person's params, as the provider is first asked."""
    return LOOKUPS[dataset.provider_name](_person(population, found=True))[0]


@pytest.fixture
async def running(serve_provider: Any, dataset: Dataset) -> RunningProvider:
    started: RunningProvider = await serve_provider(dataset.provider_name)
    return started


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds (``X``, ``X | None``, ``list[X]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def _model_paths(model: type[BaseModel], prefix: str = "") -> tuple[set[str], set[str]]:
    """The dotted paths of ``model``'s fields: (every node, the leaves)."""
    nodes: set[str] = set()
    leaves: set[str] = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        nodes.add(path)
        inner = _model_of(info.annotation)
        if inner is None:
            leaves.add(path)
        else:
            more_nodes, more_leaves = _model_paths(inner, f"{path}.")
            nodes |= more_nodes
            leaves |= more_leaves
    return nodes, leaves


def _under(path: str, declared: str) -> bool:
    return path == declared or path.startswith(declared + ".")


FOREIGN_SCOPES = {s for d in DATASETS for s in d.scopes} | {"cnaf_quotient_familial_inconnu"}


def _assert_each_scope_unmasks_its_fields(dataset: Dataset, data: Mapping[str, Any]) -> None:
    """Each scope unmasks exactly the fields it declares that ``data`` holds; no other scope
    (nor none) unmasks anything, and all of them together unmask the whole of ``data``."""
    assert dataset.mask(data, frozenset(dataset.scopes)) == data
    assert dataset.mask(data, frozenset()) == {}
    for foreign in FOREIGN_SCOPES - set(dataset.scopes):
        assert dataset.mask(data, frozenset({foreign})) == {}, foreign
    for scope, paths in dataset.scopes.items():
        masked = dataset.mask(data, frozenset({scope}))
        assert set(masked) == {p.split(".", 1)[0] for p in paths} & set(data), scope
        for leaf in leaf_paths(masked) - {""}:
            leaf = leaf.replace("[]", "")
            # a null parent of a declared field is unmasked as null
            assert any(_under(leaf, p) or _under(p, leaf) for p in paths), (scope, leaf)
        for path in paths:
            top, _, rest = path.partition(".")
            if top not in data:
                continue
            if not rest or not isinstance(data[top], list):
                assert _carried(data, masked, path), (scope, path)
            else:
                for kept, whole in zip(masked[top], data[top], strict=True):
                    assert _carried(whole, kept, rest), (scope, path)
    declared = [p for paths in dataset.scopes.values() for p in paths]
    nulls = {leaf for leaf in leaf_paths(data) if any(p.startswith(leaf + ".") for p in declared)}
    if not nulls:  # a null parent is unmasked by each scope declaring a field under it
        assert_scopes_partition(dataset, data)


def _carried(data: Any, masked: Any, path: str) -> bool:
    """Whether ``masked`` holds ``data``'s value at ``path`` (a missing or null parent aside)."""
    for part in path.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return True
        if not isinstance(masked, Mapping) or part not in masked:
            return False
        data, masked = data[part], masked[part]
        if data is None:
            return masked is None
    return bool(data == masked)


# Declarations


@each_provider
def test_the_registry_declares_each_provider_s_datasets_and_codes(name: str) -> None:
    label, codes, datasets = DECLARED[name]
    provider = registry.provider(name)
    assert provider.label == label
    assert sorted((d.id, d.version) for d in provider.datasets) == sorted(datasets)
    assert {spec.code for spec in provider.errors} == codes
    assert len({spec.code for spec in provider.errors}) == len(list(provider.errors))


@each_dataset
def test_a_dataset_without_version_is_its_newest(dataset: Dataset) -> None:
    provider = _provider(dataset)
    newest = max(d.version for d in provider.datasets if d.id == dataset.id)
    assert provider.dataset(dataset.id) is provider.dataset(dataset.id, newest)
    assert provider.dataset(dataset.id, dataset.version) is dataset


@each_dataset
def test_each_data_field_belongs_to_exactly_one_scope(dataset: Dataset) -> None:
    paths = [p for group in dataset.scopes.values() for p in group]
    assert len(paths) == len(set(paths))
    nodes, leaves = _model_paths(dataset.data)
    assert set(paths) <= nodes
    for path in paths:
        assert not any(other != path and _under(other, path) for other in paths), path
    for leaf in leaves:
        assert sum(_under(leaf, p) for p in paths) == 1, leaf


REFERENCE_LISTINGS = [
    pytest.param(dataset, endpoint, id=f"{_key(dataset)}-{endpoint}")
    for dataset in DATASETS
    for endpoint in sorted(
        {
            f"{dataset.provider_name}/{dataset.name}_with_{c.pivot}"
            for c in load_cases(case_dirs())
            if c.is_provider(dataset.provider_name)
            and c.dataset_name(dataset.provider_name) == dataset.name
        }
    )
    if reference_scopes(endpoint) is not None
]
"""Each dataset's pivots that api-particulier-scopes.yml lists; it lists no FranceConnect-mode
endpoint, so none of ANTS (served in that mode only)."""


@pytest.mark.parametrize(("dataset", "endpoint"), REFERENCE_LISTINGS)
def test_scopes_match_api_particulier(dataset: Dataset, endpoint: str) -> None:
    listed = reference_scopes(endpoint)
    assert listed is not None
    assert set(dataset.scopes) - UNLISTED_SCOPES.get(endpoint, set()) == listed


# Staging cases


@each_dataset
async def test_every_staging_case_passes(running: RunningProvider, dataset: Dataset) -> None:
    cases = running.cases(dataset)
    assert len(cases) >= _pick(MIN_STAGING_CASES, dataset, 1), "too few staging cases loaded"
    failures = []
    for case in cases:
        asked = _asked(dataset, case)
        got = await running.ask(dataset, asked)
        if not outcome_matches(case, got):
            failures.append((case.path.parent.name, case.path.name, got.status, got.codes))
        elif case.status != 200 and dataset.provider_name in STAGING_ERRORS_VERBATIM:
            assert got.errors == case.payload["errors"], case.path.name
        elif case.status == 200:
            meta = case.payload.get("meta") or {}
            expected = {k: v for k, v in meta.items() if k in REPLY_META}
            valid = validate_params(dataset.params, asked)
            assert dict(dataset.reply_meta(valid, got.data)) == expected, case.path.name
    assert failures == []


@each_dataset
async def test_a_staging_failure_is_the_provider_s_own_error(
    running: RunningProvider, dataset: Dataset
) -> None:
    errors = _provider(dataset).errors
    for case in running.cases(dataset):
        kind = case.failure(errors) if case.status != 200 else "ok"
        if kind in ("not_found", "timeout", "unavailable", "rate_limited", "unknown"):
            spec: ErrorSpec = getattr(errors, kind)
            got = await running.ask(dataset, _asked(dataset, case))
            assert (got.status, got.codes) == (spec.status, [spec.code]), case.path.name
            assert got.errors[0]["meta"]["provider"] == _provider(dataset).label


@each_dataset
async def test_example_params_answer_200(running: RunningProvider, dataset: Dataset) -> None:
    """A staging case's params where the sample holds one answering 200, else a synthetic
    person's."""
    validate_params(dataset.params, dataset.example_params)
    got = await running.ask(dataset, dataset.example_params)
    assert got.status == 200
    matching = [
        c for c in running.cases(dataset) if _asked(dataset, c) == dict(dataset.example_params)
    ]
    if dataset.provider_name in EXAMPLE_IS_A_STAGING_CASE:
        assert matching, "example_params are not a staging case's"
    assert all(got.data == case.data for case in matching)
    for path, value in _pick(EXAMPLE_ANSWERS, dataset, {}).items():
        assert _at(got.data, path) == value, path


@pytest.mark.parametrize(
    ("dataset_id", "label", "files"), CASE_FILES, ids=[f"{c[0]}-{c[1]}" for c in CASE_FILES]
)
async def test_a_case_file_is_answered_as_written(
    serve_provider: Any, tmp_path: Path, dataset_id: str, label: str, files: list[CaseFile]
) -> None:
    provider, name = dataset_id.split(".", 1)
    for index, written in enumerate(files):
        folder = (
            tmp_path / f"api_particulier_v{written.version}_{provider}_{name}_with_{written.pivot}"
        )
        folder.mkdir(exist_ok=True)
        (folder / f"{index}.yaml").write_text(
            yaml.safe_dump(
                {
                    "params": written.params,
                    "status": written.status,
                    "payload": json.dumps(written.payload),
                }
            ),
            encoding="utf-8",
        )
    cases = load_cases([tmp_path])
    assert len(cases) == len(files)
    started: RunningProvider = await serve_provider(provider, cases=cases)
    for case, written in zip(sorted(cases, key=lambda c: c.path.name), files, strict=True):
        dataset = started.dataset(dataset_id, written.version)
        got = await started.ask(dataset, written.ask or written.params, budget=3.0)
        assert outcome_matches(case, got), (case.path.name, got)
        for key, value in written.first_error.items():
            assert got.errors[0][key] == value, key
        if written.detail_contains is not None:
            assert written.detail_contains in got.errors[0]["detail"]


# Params validation


@pytest.mark.parametrize(("dataset", "row"), _rows(REFUSED))
def test_invalid_params_are_refused_with_their_code_and_parameter(
    dataset: Dataset, row: Refused
) -> None:
    with pytest.raises(ProblemError) as caught:
        validate_params(dataset.params, row.raw)
    if isinstance(row.code, ErrorSpec):
        assert caught.value.spec == row.code
    else:
        assert caught.value.spec.code == row.code
    assert caught.value.status == 422
    assert caught.value.parameter == row.parameter
    assert caught.value.error()["source"] == {"parameter": row.parameter}
    assert caught.value.error()["meta"] == {}


@pytest.mark.parametrize(("dataset", "row"), _rows(ACCEPTED))
def test_lenient_params_are_accepted(dataset: Dataset, row: Accepted) -> None:
    params = validate_params(dataset.params, row.raw)
    if row.dump is not None:
        assert params.model_dump() == row.dump
    if row.like is not None:
        assert params == validate_params(dataset.params, row.like)


# Scope masking


@each_dataset
async def test_each_scope_unmasks_exactly_the_fields_it_declares(
    running: RunningProvider, population: Population, dataset: Dataset
) -> None:
    records = [c.data for c in running.cases(dataset) if c.status == 200]
    records += _pick(SAMPLE_RECORDS, dataset, [])
    for params in (
        dataset.example_params,
        *LOOKUPS[dataset.provider_name](_person(population, found=True)),
    ):
        got = await running.ask(dataset, params)
        assert got.status == 200
        records.append(got.data)
    for data in records:
        _assert_each_scope_unmasks_its_fields(dataset, data)


# Synthetic population


@each_dataset
async def test_known_people_are_found_the_same_each_time(
    running: RunningProvider, population: Population, dataset: Dataset
) -> None:
    name = dataset.provider_name
    echoes = _pick(ECHOES, dataset)
    for person in _found(population):
        answers = []
        for params in LOOKUPS[name](person):
            first = await running.ask(dataset, params)
            assert first.status == 200, (person.index, params)
            dataset.data.model_validate(first.data)
            if name in PARTIAL_RECORDS:
                assert set(first.data) <= set(dataset.data.model_fields)
            else:
                assert set(first.data) == set(dataset.data.model_fields)
            assert (await running.ask(dataset, params)).data == first.data
            for path, value in (echoes(person) if echoes else {}).items():
                assert _at(first.data, path) == value, path
            answers.append(first.data)
        if name in SAME_RECORD_BY_EVERY_LOOKUP:
            assert all(data == answers[0] for data in answers)


@each_dataset
async def test_unknown_people_are_not_found(
    running: RunningProvider, population: Population, dataset: Dataset
) -> None:
    name = dataset.provider_name
    unknown = _person(population, found=False)
    organisms = [s for s in dataset.endpoint.errors.values() if s in ORGANISMS]
    for params in LOOKUPS[name](unknown):  # known by name, but to no organism
        got = await running.ask(dataset, params)
        if organisms:
            assert got.status == 404 and got.errors[0] in [s.error() for s in organisms], params
            continue
        _assert_not_found(dataset, got, params)
    for params in NOBODY[name](_person(population, found=True)):
        _assert_not_found(dataset, await running.ask(dataset, params), params)


def _assert_not_found(dataset: Dataset, got: Outcome, params: Mapping[str, Any]) -> None:
    errors = _provider(dataset).errors
    assert (got.status, got.codes) == (404, [errors.not_found.code]), params
    assert got.errors[0]["meta"] == {"provider": _provider(dataset).label}
    assert got.errors[0]["detail"] == _pick(NOT_FOUND_DETAIL_OF, dataset, errors.not_found.detail)


@pytest.mark.parametrize(
    "dataset",
    [d for d in DATASETS if d.provider_name in NOBODY_ON_FILE],
    ids=_dataset_ids([d for d in DATASETS if d.provider_name in NOBODY_ON_FILE]),
)
async def test_a_file_of_other_people_is_not_answered(
    running: RunningProvider, population: Population, dataset: Dataset
) -> None:
    spec, designations = NOBODY_ON_FILE[dataset.provider_name]
    for params in designations(_person(population, found=True)):
        got = await running.ask(dataset, params)
        assert (got.status, got.codes) == (spec.status, [spec.code]), params
        assert got.errors[0]["meta"] == {"provider": _provider(dataset).label}
        assert got.errors[0]["detail"] == spec.detail


# Upstream faults


@each_dataset
async def test_provider_down_then_back(
    running: RunningProvider, population: Population, dataset: Dataset
) -> None:
    spec = _provider(dataset).errors.unavailable
    for params in (_params(dataset, population), dataset.example_params):
        async with running.faulty(down=True):
            got = await running.ask(dataset, params)
        assert (got.status, got.codes) == (spec.status, [spec.code])
        assert got.errors[0]["title"] == spec.title
        assert got.errors[0]["meta"]["provider"] == _provider(dataset).label
        assert got.errors[0]["meta"]["retry_in"] > 0
        assert (await running.ask(dataset, params)).status == 200


@each_dataset
async def test_timeout(running: RunningProvider, population: Population, dataset: Dataset) -> None:
    spec = _provider(dataset).errors.timeout
    async with running.faulty(timeout_rate=1.0, hang_s=1.5):
        started = time.monotonic()
        got = await running.ask(dataset, _params(dataset, population), budget=0.5)
        spent = time.monotonic() - started
    assert (got.status, got.codes) == (spec.status, [spec.code])
    assert spent < 1.5


def _refusing_url() -> str:
    """A local address nothing listens on: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@each_dataset
@pytest.mark.parametrize("failure", ["name that does not resolve", "connection refused"])
async def test_an_unreachable_upstream_says_why(
    population: Population, dataset: Dataset, failure: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DNS failure is the provider's DNS error (``xx004``; DSNJ, whose ``39004`` is its quota,
    answers its server error), a refused or cut connection the network error ``00501``, both
    with ``retry_in``; neither is a timeout.

    The resolver answers that ``.invalid`` names do not exist itself: this machine's DNS
    server sometimes takes longer than the deadline to say so, which is a timeout."""
    provider = _provider(dataset)
    dns = failure.startswith("name")
    resolve = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    url = "http://upstream.invalid/" if dns else _refusing_url()
    upstream = Upstream(provider.name, url, provider.errors, attempts=2)
    try:
        params = validate_params(dataset.params, _params(dataset, population), france_connect=True)
        with pytest.raises(ProblemError) as failed:
            await dataset.fetch(upstream.call(time.monotonic() + 5), params)
    finally:
        await upstream.aclose()
    spec = provider.errors.dns if dns else BROKER.NETWORK_ERROR
    assert failed.value.spec == spec
    assert dns or (spec.code, spec.status) == ("00501", 504)
    assert failed.value.error()["meta"]["retry_in"] > 0


RATE_LIMITED_ON = {"cnav": "cnav.prime_activite"}
"""The dataset a provider's rate limit is tried on (else its first)."""


@pytest.mark.parametrize(
    "dataset",
    [
        next(d for d in registry.provider(n).datasets if d.id == RATE_LIMITED_ON.get(n, d.id))
        for n in PROVIDERS
    ],
    ids=PROVIDERS,
)
async def test_rate_limited(
    running: RunningProvider, population: Population, dataset: Dataset
) -> None:
    spec = _provider(dataset).errors.rate_limited
    async with running.faulty(rate_limit_rate=1.0):
        got = await running.ask(dataset, _params(dataset, population), budget=3.0)
    assert (got.status, got.codes) == (spec.status, [spec.code])
    assert got.errors[0]["title"] == spec.title
    assert got.errors[0]["meta"]["retry_in"] > 0


@each_dataset
async def test_latency_is_tolerated(
    running: RunningProvider, population: Population, dataset: Dataset
) -> None:
    async with running.faulty(latency_ms=150):
        started = time.monotonic()
        got = await running.ask(dataset, _params(dataset, population))
    assert got.status == 200
    assert time.monotonic() - started >= 0.15


@each_dataset
async def test_transient_outage_is_retried(
    running: RunningProvider, population: Population, dataset: Dataset
) -> None:
    async with running.faulty(fail_next=1):
        got: Outcome = await running.ask(dataset, _params(dataset, population))
    assert got.status == 200


# Upstream answers


@pytest.mark.parametrize(
    ("dataset", "answer"),
    [
        pytest.param(d, answer, id=f"{_key(d)}-{label}")
        for d in DATASETS
        for label, answer in BROKEN_ANSWERS[d.provider_name]
    ],
)
async def test_a_malformed_answer_is_the_unknown_error(
    dataset: Dataset, answer: httpx.Response
) -> None:
    error = await _refused_upstream(dataset, answer)
    spec = _provider(dataset).errors.unknown
    assert (error.status, error.spec.code) == (502, spec.code)


@pytest.mark.parametrize(("dataset", "row"), _rows(REFUSALS))
async def test_an_upstream_refusal_is_answered_with_its_code(
    dataset: Dataset, row: Refusal
) -> None:
    error = await _refused_upstream(dataset, row.answer)
    assert (error.status, error.spec.code, error.parameter) == (row.status, row.code, row.parameter)
    if row.meta is not None:
        assert error.error()["meta"] == row.meta


@each_dataset
async def test_every_declared_upstream_code_answers_its_refusal(dataset: Dataset) -> None:
    endpoint = dataset.endpoint
    for code, refusal in endpoint.errors.items():
        spec, parameter = refusal if isinstance(refusal, tuple) else (refusal, None)
        status, body = endpoint.failure(400, code)
        error = await _refused_upstream(dataset, _pick(WIRE, dataset, _json)(status, body))
        assert (error.spec, error.parameter) == (spec, parameter), code


@pytest.mark.parametrize(
    ("dataset", "answer", "expected"),
    [
        pytest.param(d, answer, expected, id=f"{_key(d)}-{label}")
        for d in DATASETS
        for label, answer, expected in _pick(DECODED, d, [])
    ],
)
async def test_an_upstream_record_is_decoded(
    dataset: Dataset, answer: httpx.Response, expected: dict[str, Any]
) -> None:
    assert await _fetch(dataset, answer) == expected
