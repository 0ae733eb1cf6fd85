"""The ANTS upstream simulator, speaking the SIV's SOAP: staging cases first, then the
synthetic population, whose registration numbers encode the person (``plate_of``)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from broker.simulation import Answer, Person, Population, SimulatorContext, case_answers

from . import _soap
from ._upstream import ANSWER, ERRORS, OPERATION, UNKNOWN_FILE, RegistrationParams
from .extrait_immatriculation_vehicule import DATASET, ENDPOINT

_FAILURES: dict[str, Answer] = {
    "not_found": (200, {"codeRetour": UNKNOWN_FILE}),
    "timeout": (504, {"fault": "Délai dépassé"}),
    "unavailable": (503, {"fault": "Service indisponible"}),
    "rate_limited": (429, {"fault": "Quota dépassé"}),
    "unknown": (200, {"codeRetour": "ERREUR_TECHNIQUE"}),
}

_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"
"""The SIV's letters (no I, O or U)."""
_SYNTHETIC = "S"
"""Synthetic registration numbers start with it, staging ones never do."""


def plate_of(person: Person) -> str:
    """The registration number of ``person``'s synthetic vehicle: ``S?-ddd-??``."""
    rest, serial = divmod(person.index, 999)
    letters = []
    for _ in range(3):
        rest, digit = divmod(rest, len(_LETTERS))
        letters.append(_LETTERS[digit])
    return f"{_SYNTHETIC}{letters[2]}-{serial + 1:03d}-{letters[1]}{letters[0]}"


def person_of(population: Population, plate: str) -> Person | None:
    """The synthetic person whose vehicle carries ``plate``, if any."""
    if len(plate) != 9 or not plate.startswith(_SYNTHETIC) or not plate[3:6].isdigit():
        return None
    letters = plate[1] + plate[7] + plate[8]
    if any(c not in _LETTERS for c in letters) or plate[2] != "-" or plate[6] != "-":
        return None
    rest = 0
    for c in letters:
        rest = rest * len(_LETTERS) + _LETTERS.index(c)
    index = rest * 999 + int(plate[3:6]) - 1
    if not 0 <= index < population.size or int(plate[3:6]) == 0:
        return None
    person = population.person(index)
    return person if plate_of(person) == plate else None


def build_simulator(ctx: SimulatorContext) -> web.Application:
    known = case_answers(
        ctx.cases_for(DATASET.provider_name, DATASET.name, {DATASET.version}),
        RegistrationParams,
        key=lambda _, params: params.immatriculation,
        success=lambda case: ENDPOINT.success(case.data)[1],
        failures=_FAILURES,
        errors=ERRORS,
        otherwise=_FAILURES["unknown"],
    )

    async def consultation(request: web.Request) -> web.Response:
        try:
            asked = _soap.read(await request.read(), OPERATION)
        except _soap.Unreadable:
            return _respond((500, {"fault": "Requête SOAP illisible", "client": True}))
        plate = str(asked.get("numeroImmatriculation") or "")
        return _respond(known.get(plate) or _from_population(ctx.population, plate))

    app = web.Application()
    app.router.add_post("/siv/consultation", consultation)
    return app


def _respond(answer: Answer) -> web.Response:
    status, body = answer
    if status == 200:
        content = _soap.document(ANSWER, body)
    else:
        content = _soap.fault(str(body.get("fault")), client=bool(body.get("client")))
    return web.Response(body=content, status=status, content_type="text/xml", charset="utf-8")


def _from_population(population: Population, plate: str) -> Answer:
    person = person_of(population, plate)
    if person is None or not person.found:
        return _FAILURES["not_found"]
    rng = random.Random(person.seed(DATASET.id))
    before: tuple[dict[str, Any], ...] = ()
    rattachement = "titulaire"
    location: dict[str, str | None] = {"code": None, "label": None}
    if rng.random() < 0.15:
        rattachement, location = "locataire", {"code": "LLD", "label": "Location Longue Durée"}
        before = ({"nature": "morale", "rattachement": "titulaire", "nom": "LOUEUR AUTO SAS"},)
    elif rng.random() < 0.1:
        other = population.person((person.index + 1) % population.size)
        before = (_upstream_person(other, "cotitulaire", _address(rng)),)
        rattachement = "titulaire"
    data = {
        "identite_particulier": _identity(person),
        "adresse_particulier": _address(rng),
        "statut_rattachement": rattachement,
        "donnees_immatriculation_vehicule": {
            "numero_immatriculation": plate,
            "date_premiere_immatriculation": (
                date(2010, 1, 1) + timedelta(days=rng.randrange(5000))
            ).isoformat(),
            "statut_location": location,
        },
        "caracteristiques_techniques_vehicule": rng.choice(_VEHICLES),
    }
    return ENDPOINT.success(data, before=before)


def _identity(person: Person) -> dict[str, Any]:
    return {
        "nom": person.nom_naissance,
        "prenom": " ".join(person.prenoms),
        "sexe_etat_civil": person.sexe,
        "annee_date_naissance": person.date_naissance.year,
        "mois_date_naissance": person.date_naissance.month,
        "jour_date_naissance": person.date_naissance.day,
        "code_departement_naissance": person.code_commune_naissance[:2],
    }


def _upstream_person(person: Person, rattachement: str, address: dict[str, Any]) -> dict[str, Any]:
    """Another person on the file, in the SIV's names (the simulator's own encoding)."""
    encoded = ENDPOINT.renaming.encode(
        {"identite_particulier": _identity(person), "adresse_particulier": address}
    )
    return {
        **encoded["personne"],
        "nature": "physique",
        "rattachement": rattachement,
        "adresse": encoded["adresse"],
    }


def _address(rng: random.Random) -> dict[str, Any]:
    street, postcode, commune = rng.choice(_STREETS)
    return {
        "complement_information": None,
        "num_voie": str(rng.randrange(1, 120)),
        "type_voie": street[0],
        "libelle_voie": street[1],
        "code_postal_ville": postcode,
        "libelle_commune": commune,
        "lieu_dit": None,
        "etage_escalier_appartement": None,
        "extension": None,
        "pays": "FRANCE",
    }


_STREETS = [
    (("RUE", "DE LA REPUBLIQUE"), "69002", "LYON"),
    (("AVENUE", "JEAN JAURES"), "31000", "TOULOUSE"),
    (("BOULEVARD", "DE LA LIBERTE"), "59000", "LILLE"),
    (("PLACE", "DU MARCHE"), "35000", "RENNES"),
]

_LABELS = {
    "M1": "Véhicule de transport de personnes comportant au maximum 8 places assises outre le "
    "siège du conducteur",
    "L3e": "Motocyclette",
    "VP": "Véhicule Particulier",
    "MTL": "Motocyclette légère",
    "ES": "Essence",
    "EL": "Électricité",
}


def _vehicle(
    make: str, tvv: str, name: str, mass: int, codes: tuple[str, str, str], cc: int, co2: int
) -> dict[str, Any]:
    """A vehicle's technical characteristics; ``codes`` are its category, genre and fuel."""
    category, genre, fuel = ({"code": c, "label": _LABELS[c]} for c in codes)
    norm = "6e" if fuel["code"] == "EL" else "6d" if category["code"] == "M1" else "5"
    return {
        "marque": make,
        "type_variante_version": tvv,
        "denomination_commerciale": name,
        "masse_charge_maximale": mass,
        "categorie_vehicule": category,
        "genre_national": genre,
        "cylindree": cc,
        "type_carburant": fuel,
        "taux_co2": co2,
        "classe_environnementale": {
            "code": f"Euro {norm}",
            "label": f"Norme européenne d'émission Euro {norm}",
        },
    }


_VEHICLES = [
    _vehicle("RENAULT", "RJFB", "CLIO", 1630, ("M1", "VP", "ES"), 999, 118),
    _vehicle("PEUGEOT", "UD9HN", "E-208", 1910, ("M1", "VP", "EL"), 0, 0),
    _vehicle("YAMAHA", "RE44", "NMAX", 310, ("L3e", "MTL", "ES"), 125, 52),
]
