"""Provider data the declarations cannot give, shared by the common suite and the quirk files
(where a provider's example parameters serve, they are taken from its declaration)."""

from __future__ import annotations

from typing import Any

from broker import registry


def _example(dataset_id: str) -> dict[str, Any]:
    declared = registry.dataset(dataset_id)
    assert declared is not None
    return dict(declared.example_params)


BASE: dict[str, dict[str, Any]] = {
    "ants": _example("ants.extrait_immatriculation_vehicule"),
    "cnav": {
        "nomNaissance": "DUPONT",
        "prenoms": ["JEAN", "MARIE"],
        "sexeEtatCivil": "M",
        "anneeDateNaissance": 1980,
        "moisDateNaissance": 6,
        "jourDateNaissance": 12,
        "codeCogInseeCommuneNaissance": "08480",
        "codeCogInseePaysNaissance": "99100",
    },
    "cnous": {
        "nomNaissance": "DURAND",
        "prenoms": ["SOPHIE", "MARIE"],
        "sexeEtatCivil": "F",
        "anneeDateNaissance": 2000,
        "moisDateNaissance": 3,
        "jourDateNaissance": 25,
        "codeCogInseeCommuneNaissance": "69123",
    },
    "dgfip": _example("dgfip.situation_fiscale"),
    "dsnj": _example("dsnj.service_national"),
    "france_travail": {"identifiant": "a"},
    "gip_mds": _example("gip_mds.service_civique"),
    "men": {
        "nomNaissance": "ROBERT",
        "prenoms": ["CLARA"],
        "sexeEtatCivil": "F",
        "anneeDateNaissance": 2005,
        "moisDateNaissance": 9,
        "jourDateNaissance": 21,
        "codeEtablissement": "0130039X",
        "anneeScolaire": "2025",
    },
    "mesri": {
        "nomNaissance": "MARTIN",
        "prenoms": ["Jacques"],
        "anneeDateNaissance": 2004,
        "moisDateNaissance": 1,
        "jourDateNaissance": 1,
        "sexeEtatCivil": "M",
        "codeCogInseeCommuneNaissance": "75102",
    },
    "sdh": {"identifiant": "12345"},
}
"""Valid params of each provider, that the params tables change and the mocked fetches send."""

PASSENGER_CAR = {
    "categorie_vehicule": {"code": "M1", "label": "Véhicule particulier"},
    "genre_national": {"code": "VP", "label": "Véhicule Particulier"},
}
"""How the SIV classes a private car (category M1, national kind VP): both sample cars are."""

SAMPLE_RECORDS: dict[str, list[dict[str, Any]]] = {
    "ants": [
        {  # the example's citizen on an old FNI-numbered file, nulls where the SIV has none
            "identite_particulier": {
                "nom": "DELATOUR",
                "prenom": "THOMAS ANDRÉ",
                "sexe_etat_civil": "M",
                "annee_date_naissance": 1985,
                "mois_date_naissance": None,
                "jour_date_naissance": None,
                "code_departement_naissance": "2A",
            },
            "adresse_particulier": {
                "complement_information": None,
                "num_voie": None,
                "type_voie": None,
                "libelle_voie": None,
                "code_postal_ville": "20167",
                "libelle_commune": "MEZZAVIA",
                "lieu_dit": "LES MOULINS",
                "etage_escalier_appartement": None,
                "extension": None,
                "pays": None,
            },
            "statut_rattachement": "cotitulaire",
            "donnees_immatriculation_vehicule": {
                "numero_immatriculation": "123 AB 45",
                "date_premiere_immatriculation": "1998-06-02",
                "statut_location": {"code": None, "label": None},
            },
            "caracteristiques_techniques_vehicule": {
                "marque": "CITROEN",
                "type_variante_version": "AZKB",
                "denomination_commerciale": "2CV6",
                "masse_charge_maximale": 840.5,
                **PASSENGER_CAR,
                "cylindree": 602,
                "type_carburant": {"code": "ES", "label": "Essence"},
                "taux_co2": 0,
                "classe_environnementale": {
                    "code": "Euro 1",
                    "label": "Norme européenne d'émission Euro 1",
                },
            },
        }
    ],
    "sdh": [
        {
            "identite": {
                "nom_naissance": "Durand",
                "nom_usage": None,
                "prenoms": "Léa",
                "date_naissance": "1999-02-03",
                "sexe": "F",
            },
            "est_sportif_de_haut_niveau": False,
            "a_ete_sportif_de_haut_niveau": True,
            "informations_statut": None,
            "informations_statuts_precedents": [
                {
                    "fiche": 1234,
                    "periode": {"date_debut_statut": "2019-01-01", "date_fin_statut": "2020-12-31"},
                    "federation": {
                        "code_federation": "12",
                        "nom_federation": "Fédération française d'escrime",
                        "nom_court_federation": "ESCRIME",
                    },
                    "etablissement": {"code_etablissement": "1011", "nom_etablissement": "INSEP"},
                    "region": {"code_region": "11", "nom_region": "Île-de-France"},
                    "categorie": {"code_categorie": "1", "nom_categorie": "Elite", "valeur": "12"},
                    "sportif_de_haut_niveau": True,
                }
            ],
        }
    ],
}
"""Records beyond the staging cases and synthetic answers that the scope tests mask."""
