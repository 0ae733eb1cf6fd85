"""ANTS's quirks: served in FranceConnect mode only, so the record is the first physical person
on the vehicle's file whom the citizen's identity matches (how well, in the reply's
``identity_matching``); registration numbers in the SIV's and the FNI's formats; the SIV's SOAP,
read with defusedxml, whose entities and DTDs are never expanded nor fetched whoever sends them;
and the plates that encode synthetic people. The common behaviour is in ``test_every_provider``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web
from defusedxml.ElementTree import fromstring

from broker.errors import UNKNOWN_PARAMETERS_DETAIL, ProblemError
from broker.kit import Upstream, validate_params
from broker.simulation import Person, Population, serve
from workers.ants import PROVIDER, _soap
from workers.ants._upstream import (
    ANSWER,
    NOBODY_MATCHES,
    OPERATION,
    PATH,
    RegistrationParams,
    registration_text,
)
from workers.ants.extrait_immatriculation_vehicule import DATASET, ENDPOINT
from workers.ants.simulator import person_of, plate_of

from ._data import BASE, SAMPLE_RECORDS
from .conftest import Outcome, RunningProvider, upstream_answering

ERRORS = PROVIDER.errors
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f"{_soap.SIV}#{OPERATION}"}
SAMPLE = SAMPLE_RECORDS["ants"][0]
"""A record of the example's citizen, on an FNI-numbered file."""

DELATOUR = BASE["ants"]
"""The example's params, a staging case's: FC-123-AB, THOMAS DELATOUR born 15 March 1985."""
CHARLES = {
    "immatriculation": "TM-001-KB",
    "nomNaissance": "CIS CINQUANTESEPT",
    "prenoms": ["PRENOM", "CHARLES"],
    "anneeDateNaissance": 1960,
    "moisDateNaissance": 4,
    "jourDateNaissance": 19,
}
"""A staging case's citizen whose SIV first name is ``PRENOM CHARLES``."""
FULL_MATCH = {"family_name": 1.0, "given_name": 1.0, "birth_date": 1.0, "overall_match": True}


@pytest.fixture
async def ants(serve_provider: Any) -> RunningProvider:
    started: RunningProvider = await serve_provider("ants")
    return started


async def _answer(
    ants: RunningProvider, params: Mapping[str, Any]
) -> tuple[Outcome, Mapping[str, Any]]:
    """The outcome for ``params`` and, when found, the reply's ``meta``."""
    got = await ants.ask(DATASET, params)
    if got.status != 200:
        return got, {}
    valid = validate_params(DATASET.params, params, france_connect=True)
    return got, DATASET.reply_meta(valid, got.data)


async def _file_of(client: httpx.AsyncClient, ants: RunningProvider, plate: str) -> dict[str, Any]:
    """The SIV's answer for ``plate``, asked in SOAP as the worker asks it."""
    sent = _soap.document(OPERATION, {"numeroImmatriculation": plate})
    answer = await client.post(f"{ants.base_url}/ants/{PATH}", content=sent, headers=HEADERS)
    assert answer.status_code == 200
    return _soap.read(answer.content, ANSWER)


def _people(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    people = answer["dossier"]["personnes"]["personne"]
    return people if isinstance(people, list) else [people]


def _fault_code(raw: bytes) -> str | None:
    """The ``faultcode`` of a SOAP 1.1 fault."""
    fault = fromstring(raw, forbid_dtd=True).find(f"{{{_soap.SOAP}}}Body/{{{_soap.SOAP}}}Fault")
    return None if fault is None else fault.findtext("faultcode")


def _upstream_person(record: Mapping[str, Any], rattachement: str) -> dict[str, Any]:
    """The person of an API-shaped ``record`` as the SIV lists it, with an address."""
    encoded = ENDPOINT.renaming.encode(record)
    return {
        **encoded["personne"],
        "nature": "physique",
        "rattachement": rattachement,
        "adresse": encoded["adresse"],
    }


def _born(record: Mapping[str, Any], year: int, rattachement: str) -> dict[str, Any]:
    """``record``'s person, born in ``year``, as the SIV lists it."""
    identity = {**record["identite_particulier"], "annee_date_naissance": year}
    return _upstream_person({**record, "identite_particulier": identity}, rattachement)


async def _fetch_from(answer: httpx.Response, params: Mapping[str, Any]) -> dict[str, Any]:
    """Fetch from an upstream answering ``answer``."""
    async with upstream_answering("ants", ERRORS, answer) as upstream:
        return await DATASET.fetch(upstream.call(None), validate_params(DATASET.params, params))


def _siv_answer(dossier: Mapping[str, Any]) -> httpx.Response:
    body = {"codeRetour": "00", "dossier": dossier}
    return httpx.Response(200, content=_soap.document(ANSWER, body), headers=HEADERS)


# Errors


def test_error_codes() -> None:
    assert [spec.code for spec in ERRORS] == [
        *("42001", "42002", "42003", "42008", "42004", "42999", "42005")
    ]
    assert {spec.provider for spec in ERRORS} == {"ANTS"}
    assert ERRORS.not_found.detail == UNKNOWN_PARAMETERS_DETAIL
    assert ERRORS.by_code("42005") == NOBODY_MATCHES
    assert (NOBODY_MATCHES.status, NOBODY_MATCHES.title) == (404, "Entité non trouvée")
    assert (DATASET.france_connect, DATASET.identity) == (True, False)


# The SIV's SOAP


async def test_the_simulator_speaks_soap(ants: RunningProvider) -> None:
    url = f"{ants.base_url}/ants/{PATH}"
    async with httpx.AsyncClient() as client:
        found = await client.post(
            url,
            content=_soap.document(OPERATION, {"numeroImmatriculation": "FC-123-AB"}),
            headers=HEADERS,
        )
        unknown = await client.post(
            url,
            content=_soap.document(OPERATION, {"numeroImmatriculation": "AB-123-CD"}),
            headers=HEADERS,
        )
    assert found.status_code == 200
    assert found.headers["content-type"].startswith("text/xml")
    answer = _soap.read(found.content, ANSWER)
    assert answer["codeRetour"] == "00"
    assert answer["dossier"]["immatriculation"]["numero"] == "FC-123-AB"
    assert answer["dossier"]["vehicule"]["ptac"] == 1890  # a number, from the SIV's xs:integer
    assert [(p["nature"], p["nom"]) for p in _people(answer)] == [("physique", "DELATOUR")]
    assert (unknown.status_code, _soap.read(unknown.content, ANSWER)) == (
        200,
        {"codeRetour": "DOSSIER_INCONNU"},
    )


UNREADABLE_REQUESTS = {
    "a form": b"numeroImmatriculation=FC-123-AB",
    "JSON": b'{"numeroImmatriculation": "FC-123-AB"}',
    "no operation": _soap.document("Consulter", {"numeroImmatriculation": "FC-123-AB"}),
    "an encoding nobody knows": b'<?xml version="1.0" encoding="x-inconnu"?>'
    + _soap.document(OPERATION, {"numeroImmatriculation": "FC-123-AB"}).split(b"?>", 1)[1],
}


@pytest.mark.parametrize("label", sorted(UNREADABLE_REQUESTS))
async def test_an_unreadable_request_is_a_soap_fault(ants: RunningProvider, label: str) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{ants.base_url}/ants/{PATH}", content=UNREADABLE_REQUESTS[label], headers=HEADERS
        )
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("text/xml")
    assert _fault_code(answer.content) == "soap:Client"


# Hostile XML, both ways

LAUGHS = '<!ENTITY lol0 "lol">' + "".join(
    f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
)
HOSTILE: dict[str, tuple[str, str]] = {
    "internal entity": ('<!DOCTYPE Envelope [<!ENTITY v "{value}">]>', "&v;"),
    "billion laughs": (f"<!DOCTYPE Envelope [{LAUGHS}]>", "&lol9;"),
    "external entity": ('<!DOCTYPE Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;"),
    "external entity over HTTP": (
        '<!DOCTYPE Envelope [<!ENTITY x SYSTEM "{canary}/entity">]>',
        "&x;",
    ),
    "external DTD": ('<!DOCTYPE Envelope SYSTEM "{canary}/dtd">', "{value}"),
    "parameter entity": (
        '<!DOCTYPE Envelope [<!ENTITY % p SYSTEM "{canary}/param"> %p;]>',
        "{value}",
    ),
}
"""Document type declarations, and what stands for a value in the document. Expanded, the
internal entity would make the document the plain one; the billion laughs, gigabytes; the
external ones read a local file or call the canary server."""


def _hostile(document: bytes, value: str, kind: str, canary: str) -> bytes:
    """``document`` with the declaration of ``kind``, ``value`` in it written its way."""
    declaration, reference = HOSTILE[kind]

    def filled(text: str) -> str:
        return text.replace("{canary}", canary).replace("{value}", value)

    text = document.decode()
    assert text.count(f">{value}<") == 1
    text = text.replace("?>", "?>" + filled(declaration), 1)
    return text.replace(f">{value}<", f">{filled(reference)}<").encode()


@dataclass
class Canary:
    """A server of our own: answers ``answer`` as the SIV would, and notes what else is asked
    of it (an external entity or DTD being fetched)."""

    url: str = ""
    answer: bytes = b""
    consulted: int = 0
    fetched: list[str] = field(default_factory=list)


@pytest.fixture
async def canary() -> AsyncIterator[Canary]:
    state = Canary()

    async def consultation(_: web.Request) -> web.Response:
        state.consulted += 1
        return web.Response(body=state.answer, content_type="text/xml", charset="utf-8")

    async def elsewhere(request: web.Request) -> web.Response:
        state.fetched.append(request.path)
        return web.Response(text='<!ENTITY x "fetched">', content_type="application/xml-dtd")

    app = web.Application()
    app.router.add_post(f"/{PATH}", consultation)
    app.router.add_route("*", "/{tail:.*}", elsewhere)
    runner = await serve(app, "127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield state
    finally:
        await runner.cleanup()


def _unexpanded(raw: bytes) -> bool:
    return not any(mark in raw for mark in (b"lollol", b"root:", b"/bin/", b"fetched"))


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_the_soap_reader_refuses_every_declaration(kind: str) -> None:
    document = _soap.document(ANSWER, ENDPOINT.success(SAMPLE)[1])
    assert _soap.read(document, ANSWER)["codeRetour"] == "00"
    with pytest.raises(_soap.Unreadable):
        _soap.read(_hostile(document, "DELATOUR", kind, "http://127.0.0.1:9"), ANSWER)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_a_hostile_request_is_refused_unexpanded(
    ants: RunningProvider, canary: Canary, kind: str
) -> None:
    plain = _soap.document(OPERATION, {"numeroImmatriculation": "FC-123-AB"})
    async with httpx.AsyncClient() as client:
        started = time.monotonic()
        answer = await client.post(
            f"{ants.base_url}/ants/{PATH}",
            content=_hostile(plain, "FC-123-AB", kind, canary.url),
            headers=HEADERS,
        )
        spent = time.monotonic() - started
    assert spent < 1.0
    assert answer.status_code == 500
    assert _fault_code(answer.content) == "soap:Client"
    assert len(answer.content) < 1000
    assert _unexpanded(answer.content)
    assert b"DELATOUR" not in answer.content  # the file of the plain request is not served
    assert canary.fetched == []


@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_a_hostile_answer_is_the_unknown_error_unexpanded(canary: Canary, kind: str) -> None:
    plain = _soap.document(ANSWER, ENDPOINT.success(SAMPLE)[1])
    upstream = Upstream("ants", f"{canary.url}/", ERRORS, timeout=2.0)
    params = validate_params(DATASET.params, BASE["ants"], france_connect=True)
    try:
        canary.answer = plain
        assert await DATASET.fetch(upstream.call(time.monotonic() + 2.0), params) == SAMPLE
        canary.answer = _hostile(plain, "DELATOUR", kind, canary.url)
        started = time.monotonic()
        with pytest.raises(ProblemError) as caught:
            await DATASET.fetch(upstream.call(time.monotonic() + 2.0), params)
        spent = time.monotonic() - started
    finally:
        await upstream.aclose()
    assert spent < 1.0
    assert (caught.value.status, caught.value.spec) == (502, ERRORS.unknown)
    assert _unexpanded(str(caught.value.error()).encode())
    assert canary.consulted == 2
    assert canary.fetched == []


# Which person on the file is the citizen


async def _someone_whose_file(
    ants: RunningProvider,
    population: Population,
    first_is: Callable[[Person, Mapping[str, Any]], bool],
) -> tuple[Person, list[dict[str, Any]]]:
    """The first synthetic person (among the first 300) whose file's first person is as
    ``first_is`` says, with the people on that file."""
    async with httpx.AsyncClient() as client:
        for person in (population.person(i) for i in range(300)):
            if person.found:
                people = _people(await _file_of(client, ants, plate_of(person)))
                if first_is(person, people[0]):
                    return person, people
    pytest.fail("no such synthetic file among the first 300 people")


async def test_a_lessee_behind_a_legal_holder_is_the_citizen(
    ants: RunningProvider, population: Population
) -> None:
    person, people = await _someone_whose_file(
        ants, population, lambda _, first: first["nature"] == "morale"
    )
    assert people[0]["rattachement"] == "titulaire"
    got, meta = await _answer(ants, {"immatriculation": plate_of(person), **person.params()})
    assert got.status == 200, (person.index, got.codes)
    assert got.data["identite_particulier"]["nom"] == person.nom_naissance
    assert got.data["statut_rattachement"] == "locataire"
    assert got.data["donnees_immatriculation_vehicule"]["statut_location"]["code"] == "LLD"
    assert meta == {"identity_matching": FULL_MATCH}


async def _someone_behind_a_co_holder(
    ants: RunningProvider, population: Population
) -> tuple[Person, list[dict[str, Any]]]:
    """A synthetic person whose file lists another physical person (a co-holder) first."""
    return await _someone_whose_file(
        ants,
        population,
        lambda p, first: first["nature"] == "physique" and first["nom"] != p.nom_naissance,
    )


async def test_a_holder_behind_a_co_holder_is_the_citizen(
    ants: RunningProvider, population: Population
) -> None:
    person, people = await _someone_behind_a_co_holder(ants, population)
    assert [p["nature"] for p in people] == ["physique", "physique"]
    got, meta = await _answer(ants, {"immatriculation": plate_of(person), **person.params()})
    assert got.status == 200, (person.index, got.codes)
    assert got.data["identite_particulier"]["nom"] == person.nom_naissance
    assert got.data["statut_rattachement"] == "titulaire"
    assert meta == {"identity_matching": FULL_MATCH}


async def test_the_co_holder_before_the_holder_is_found_too(
    ants: RunningProvider, population: Population
) -> None:
    person, people = await _someone_behind_a_co_holder(ants, population)
    first = people[0]
    co_holder = {
        "immatriculation": plate_of(person),
        "nomNaissance": first["nom"],
        "prenoms": first["prenom"].split(),
        "anneeDateNaissance": first["anneeNaissance"],
        "moisDateNaissance": first["moisNaissance"],
        "jourDateNaissance": first["jourNaissance"],
    }
    got, meta = await _answer(ants, co_holder)
    assert got.status == 200, (person.index, got.codes)
    assert got.data["identite_particulier"]["nom"] == first["nom"]
    assert got.data["statut_rattachement"] == "cotitulaire"
    assert meta == {"identity_matching": FULL_MATCH}


async def test_the_first_physical_person_matching_is_chosen() -> None:
    """A legal person of the citizen's very name is never the citizen; of two homonyms, the
    first is, though only the second has the citizen's birth date."""
    legal = {"nature": "morale", "rattachement": "titulaire", "nom": "DELATOUR", "prenom": "THOMAS"}
    someone = {
        **_upstream_person(SAMPLE, "cotitulaire"),
        "nom": "MARTIN",
        "prenom": "THOMAS",
    }
    dossier = ENDPOINT.success(SAMPLE)[1]["dossier"]
    dossier["personnes"] = {
        "personne": [
            legal,
            someone,
            _born(SAMPLE, 1950, "cotitulaire"),
            _born(SAMPLE, 1985, "titulaire"),
        ]
    }
    params = {**BASE["ants"], "immatriculation": "123 AB 45"}
    data = await _fetch_from(_siv_answer(dossier), params)
    assert data["identite_particulier"]["annee_date_naissance"] == 1950
    assert data["statut_rattachement"] == "cotitulaire"
    valid = validate_params(DATASET.params, params)
    assert DATASET.reply_meta(valid, data) == {
        "identity_matching": {**FULL_MATCH, "birth_date": 0.0}
    }
    dossier["personnes"] = {"personne": [legal, someone]}
    with pytest.raises(ProblemError) as caught:
        await _fetch_from(_siv_answer(dossier), params)
    assert caught.value.spec == NOBODY_MATCHES


@pytest.mark.parametrize(
    ("family", "first"),
    [("Délatour", ["Thomas"]), ("delatour", ["THOMAS"]), ("  DÉLATOUR ", ["thômas"])],
)
async def test_names_match_whatever_their_accents_and_case(
    ants: RunningProvider, family: str, first: list[str]
) -> None:
    got, meta = await _answer(ants, {**DELATOUR, "nomNaissance": family, "prenoms": first})
    assert got.status == 200, got.codes
    assert got.data["identite_particulier"]["nom"] == "DELATOUR"
    assert meta == {"identity_matching": FULL_MATCH}


@pytest.mark.parametrize("first", [["Charles"], ["PRENOM"], ["Xavier", "charles"]])
async def test_one_first_name_among_several_is_enough(
    ants: RunningProvider, first: list[str]
) -> None:
    got, meta = await _answer(ants, {**CHARLES, "prenoms": first})
    assert got.status == 200, got.codes
    assert got.data["identite_particulier"]["prenom"] == "PRENOM CHARLES"
    assert meta == {"identity_matching": FULL_MATCH}


async def test_a_wrong_first_name_is_nobody_on_the_file(ants: RunningProvider) -> None:
    got, _ = await _answer(ants, {**CHARLES, "prenoms": ["Xavier"]})
    assert (got.status, got.codes) == (404, [NOBODY_MATCHES.code])


@pytest.mark.parametrize(
    "birth",
    [
        {"jourDateNaissance": 16},
        {"anneeDateNaissance": 1986},
        {"anneeDateNaissance": None, "moisDateNaissance": None, "jourDateNaissance": None},
    ],
    ids=["another day", "another year", "none"],
)
async def test_a_wrong_birth_date_still_matches_but_scores_zero(
    ants: RunningProvider, birth: dict[str, Any]
) -> None:
    params = {k: v for k, v in {**DELATOUR, **birth}.items() if v is not None}
    got, meta = await _answer(ants, params)
    assert got.status == 200, got.codes
    assert got.data["identite_particulier"]["jour_date_naissance"] == 15
    assert meta == {"identity_matching": {**FULL_MATCH, "birth_date": 0.0}}


async def test_a_wrong_family_name_is_nobody_on_the_file(ants: RunningProvider) -> None:
    got, _ = await _answer(ants, {**DELATOUR, "nomNaissance": "DELACOUR"})
    assert (got.status, got.codes) == (404, ["42005"])
    assert got.errors[0]["meta"] == {"provider": "ANTS"}
    assert got.errors[0]["detail"] == NOBODY_MATCHES.detail
    assert "DELATOUR" not in str(got.errors)


# Registration numbers


@pytest.mark.parametrize("typed", ["tm001kb", "TM 001 KB", "TM-001-KB", " tm-001 Kb "])
async def test_registration_numbers_are_normalised(ants: RunningProvider, typed: str) -> None:
    assert registration_text(typed) == "TM-001-KB"
    params = validate_params(RegistrationParams, {"immatriculation": typed}, france_connect=True)
    assert isinstance(params, RegistrationParams)
    assert params.immatriculation == "TM-001-KB"
    got, _ = await _answer(ants, {**CHARLES, "immatriculation": typed})
    assert got.status == 200, got.codes
    assert got.data["donnees_immatriculation_vehicule"]["numero_immatriculation"] == "TM-001-KB"


@pytest.mark.parametrize("typed", ["123 AB 45", "123AB45", "123 ab 45"])
async def test_an_fni_number_is_accepted(ants: RunningProvider, typed: str) -> None:
    params = validate_params(RegistrationParams, {"immatriculation": typed}, france_connect=True)
    assert isinstance(params, RegistrationParams)
    assert params.immatriculation == "123 AB 45"
    got, _ = await _answer(ants, {**DELATOUR, "immatriculation": typed})
    assert (got.status, got.codes) == (404, [ERRORS.not_found.code])  # asked, and not on file


@pytest.mark.parametrize(
    "typed", [None, "", "garbage", "TM-01-KB", "TM_001_KB", "TM-001-KB-1", "123 AB", 1234567]
)
async def test_a_malformed_registration_number_is_refused(
    ants: RunningProvider, typed: Any
) -> None:
    raw = {k: v for k, v in {**DELATOUR, "immatriculation": typed}.items() if v is not None}
    for france_connect in (False, True):
        with pytest.raises(ProblemError) as caught:
            validate_params(DATASET.params, raw, france_connect=france_connect)
        assert (caught.value.status, caught.value.spec.code) == (422, "00430")
        assert caught.value.parameter == "immatriculation"
    got, _ = await _answer(ants, raw)
    assert (got.status, got.codes) == (422, ["00430"])


# Synthetic plates


async def test_plates_encode_synthetic_people_and_never_look_like_staging(
    ants: RunningProvider, population: Population
) -> None:
    plates = set()
    for index in range(3000):
        person = population.person(index)
        plate = plate_of(person)
        assert plate.startswith("S"), index
        assert registration_text(plate) == plate, index  # a well-formed SIV number as written
        assert person_of(population, plate) == person, index
        plates.add(plate)
    assert len(plates) == 3000
    staging = {c.params["immatriculation"] for c in ants.cases(DATASET)}
    assert len(staging) >= 10
    assert not any(plate.startswith("S") for plate in staging)
    assert not plates & staging
    assert all(person_of(population, plate) is None for plate in staging)
    for plate in ["SA-000-AA", "sa-001-aa", "SI-001-AA", "SZ-999-ZZ", "SA-001-A", "SA001AA"]:
        assert person_of(population, plate) is None, plate
