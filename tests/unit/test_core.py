"""Unit tests of the provider-independent pieces: masking, params, civility, population."""

from __future__ import annotations

import pytest

from broker.errors import BROKER, ProblemError, ProviderErrors
from broker.kit import Civility, Renaming, mask, normalise_name, validate_params
from broker.simulation import Population


def test_mask_keeps_only_granted_paths() -> None:
    data = {
        "a": {"x": 1, "y": 2},
        "b": [{"x": 1, "y": 2}, {"x": 3, "y": 4}],
        "c": None,
        "d": 5,
    }
    assert mask(data, ["a"]) == {"a": {"x": 1, "y": 2}}
    assert mask(data, ["a.x", "b.y", "c"]) == {"a": {"x": 1}, "b": [{"y": 2}, {"y": 4}], "c": None}
    assert mask(data, []) == {}
    assert mask(data, ["missing"]) == {}


class Strict(Civility):
    pass


BASE = {
    "nomNaissance": "ROUX",
    "sexeEtatCivil": "F",
    "codeCogInseePaysNaissance": "99100",
    "codeCogInseeCommuneNaissance": "75056",
}


def _code(raw: dict[str, object]) -> tuple[str, str | None]:
    with pytest.raises(ProblemError) as caught:
        validate_params(Strict, raw)
    return caught.value.spec.code, caught.value.parameter


def test_civility_accepts_the_pivot_and_ignores_unknown_params() -> None:
    params = validate_params(Strict, {**BASE, "prenoms": "JEANNE", "inconnu": 1})
    assert isinstance(params, Strict)
    assert params.prenoms == ["JEANNE"]


@pytest.mark.parametrize(
    ("change", "parameter"),
    [
        ({"nomNaissance": None}, "nomNaissance"),
        ({"sexeEtatCivil": "X"}, "sexeEtatCivil"),
        ({"codeCogInseePaysNaissance": "12345"}, "codeCogInseePaysNaissance"),
        ({"codeCogInseeCommuneNaissance": "ABCDE"}, "codeCogInseeCommuneNaissance"),
        ({"moisDateNaissance": 2}, "anneeDateNaissance"),
        (
            {"anneeDateNaissance": 1990, "moisDateNaissance": 2, "jourDateNaissance": 30},
            "jourDateNaissance",
        ),
        ({"anneeDateNaissance": 2990}, "anneeDateNaissance"),
    ],
)
def test_civility_errors_name_the_parameter(change: dict[str, object], parameter: str) -> None:
    raw = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    assert _code(raw) == ("00366", parameter)


def test_birthplace_in_france_needs_a_commune_or_its_name() -> None:
    raw = {k: v for k, v in BASE.items() if k != "codeCogInseeCommuneNaissance"}
    assert _code(raw) == ("00366", "codeCogInseeCommuneNaissance")
    resolved = validate_params(
        Strict,
        {
            **raw,
            "nomCommuneNaissance": "Marseille",
            "codeCogInseeDepartementNaissance": "13",
            "anneeDateNaissance": 1980,
        },
    )
    assert isinstance(resolved, Strict)
    assert resolved.codeCogInseeCommuneNaissance == "13055"
    abroad = validate_params(Strict, {**raw, "codeCogInseePaysNaissance": "99134"})
    assert isinstance(abroad, Strict)


def test_subject_is_normalised_so_the_pseudonym_is_stable() -> None:
    one = validate_params(Strict, {**BASE, "prenoms": ["Jérôme "], "nomNaissance": "Roux"})
    two = validate_params(Strict, {**BASE, "prenoms": ["JEROME"]})
    assert one.subject() == two.subject()
    assert normalise_name("  Éloïse  Marie ") == "ELOISE MARIE"


def test_population_is_deterministic_and_decodable() -> None:
    population = Population(1_000_000, not_found_share=0.1)
    person = population.person(123_456)
    assert population.person(123_456) == person
    assert population.index_of_name(person.nom_naissance) == 123_456
    assert population.by_ine(person.ine) == person
    assert population.by_identifiant(person.identifiant) == person
    assert population.index_of_name("DUPONT") is None
    share = sum(not population.person(i).found for i in range(20_000)) / 20_000
    assert 0.08 < share < 0.12


def test_renaming_round_trips_nulls_and_lists() -> None:
    renaming = Renaming({"a": "A", "b": ("B", {"c": "C"})})
    api = {"a": None, "b": [{"c": 1}, {"c": None}]}
    assert renaming.encode(api) == {"A": None, "B": [{"C": 1}, {"C": None}]}
    assert renaming.decode(renaming.encode(api)) == api
    assert renaming.decode({"A": 1}) == {"a": 1}


def test_provider_errors_use_the_provider_number() -> None:
    errors = ProviderErrors(label="X", number=7)
    assert [s.code for s in errors] == ["07001", "07002", "07003", "07008", "07004", "07999"]
    assert errors.not_found.error()["meta"] == {"provider": "X"}
    assert BROKER.RATE_LIMITED.error()["meta"] == {"retry_in": 1}
    assert BROKER.RECIPIENT_MISSING.error(parameter="recipient")["source"] == {
        "parameter": "recipient"
    }


def test_cli_params_parse_numbers_lists_and_codes() -> None:
    from broker.tooling.cli import parse_params

    parsed = parse_params(
        [
            "nomNaissance=ROUX",
            "prenoms=JEANNE",
            "prenoms=MARIE",
            "anneeDateNaissance=1982",
            "codeCogInseeCommuneNaissance=08480",
        ]
    )
    assert parsed == {
        "nomNaissance": "ROUX",
        "prenoms": ["JEANNE", "MARIE"],
        "anneeDateNaissance": 1982,
        "codeCogInseeCommuneNaissance": "08480",
    }
