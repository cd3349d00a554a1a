"""Demo data for the local stack: agent Expert BTP, editor EBP and an admin with API keys, a localhost deployment,
artisan Durant Peinture linked to EBP (DUR-001), a fresh share link for him and an artisan bearer token."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aimanager.dal import repositories as repo
from aimanager.dal.accounts import email_guard, external_id_guard, pair_guard
from aimanager.dal.deployment_store import name_guard
from aimanager.dal.tables import AgentItem, DeploymentItem, UniqueItem, UserEditorLinkItem, UserItem
from aimanager.domain.api_keys import hash_api_key, new_api_key, prefix_of
from aimanager.ids import utc_now
from aimanager.models.agent import AllowedDomain

AGENT_ID = "agt_expert_btp"
EDITOR_ID = "usr_ebp"
ADMIN_ID = "usr_admin"
ARTISAN_ID = "usr_durant"
ARTISAN_LINK_ID = "lnk_ebp_durant"
ARTISAN_EXTERNAL_ID = "DUR-001"
KNOWLEDGE_COLLECTION = "expert-btp"

MASTER_PROMPT = """Tu es « Expert BTP », un assistant d'estimation pour les travaux du bâtiment en France.
Règles :
- Réponds en français, avec courtoisie et précision, sans jamais inventer de prix hors des fourchettes connues.
- Recueille le projet pas à pas : type de travaux, pièce, surfaces (m²), état actuel, finitions souhaitées, délais.
- Demande des photos de l'existant quand elles aident l'estimation.
- Quand tu as assez d'éléments, rédige un pré-devis structuré : postes (désignation, quantité, unité, prix unitaire HT),
  total HT, taux de TVA (10 % rénovation de logement de plus de 2 ans, 20 % sinon), total TTC,
  et recopie-le dans un bloc ```json-quote```.
- Un pré-devis est indicatif : il sera validé par l'artisan ou un métreur."""

KNOWLEDGE = [
    "Carrelage sol salle de bain : pose 40 à 60 € HT/m², fourniture 20 à 80 € HT/m².",
    "Faïence murale : pose 45 à 65 € HT/m² selon le format des carreaux.",
    "Peinture murs et plafonds : 25 à 40 € HT/m² (deux couches, préparation comprise).",
    "Remplacement d'une baignoire par une douche à l'italienne : 3 000 à 6 000 € HT selon l'étanchéité.",
    "TVA : 10 % pour la rénovation d'un logement achevé depuis plus de deux ans, 5,5 % pour la rénovation énergétique.",
    "Ragréage de sol : 15 à 25 € HT/m² avant pose d'un nouveau revêtement.",
]


@dataclass
class DemoData:
    api_url: str
    deployment_key: str
    editor_api_key: str
    admin_api_key: str
    limited_deployment_key: str = ""  # small daily quotas (3 sessions, 5 messages): the limits at work
    demo_page: str = ""
    artisan_id: str = ""
    artisan_external_id: str = ""
    artisan_token: str = ""  # bearer for /api/artisan/... (24 h)
    share_link_url: str = ""  # a fresh share link of Durant Peinture on the demo deployment (7 days)


def _load_previous(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _key_for(kind: str, previous: str | None) -> tuple[str, str, str]:
    """Keep the keys of the last run (scripts keep working), else mint new ones: (secret, prefix, hash)."""
    if previous:
        return previous, prefix_of(previous), hash_api_key(previous)
    key = new_api_key(kind, secrets.token_bytes(20), env="test")
    return key.secret, key.prefix, key.key_hash


def seed(api_url: str, demo_file: Path, *, model: str) -> DemoData:
    """Idempotent: writes the same rows every run (conditional on nothing), keeping the keys in demo_file."""
    previous = _load_previous(demo_file)
    now = utc_now()
    AgentItem(
        AGENT_ID,
        name="Expert BTP",
        slug="expert-btp",
        description="Estimateur de travaux du bâtiment",
        system_prompt=MASTER_PROMPT,
        model=model,
        fallback_model=None,
        temperature=0.4,
        max_tokens=1200,
        context_window_size=10,
        qdrant_collection=KNOWLEDGE_COLLECTION,
        deployment_mode="dedicated",
        is_whitelabel_enabled=True,
        whitelabel_config={
            "allow_prompt_override": True,
            "allow_rag_override": False,
            "allow_model_override": False,
            "required_branding": True,
            "min_rate_limit": 30,
        },
        default_branding={"chat_title": "Expert BTP", "primary_color": "#1F6FEB", "powered_by": True},
        created_at=now,
    ).save()
    editor_key, editor_prefix, editor_hash = _key_for("editeur", previous.get("editor_api_key"))
    admin_key, admin_prefix, admin_hash = _key_for("admin", previous.get("admin_api_key"))
    UserItem(
        EDITOR_ID,
        email="integration@ebp.example",
        name="EBP",
        roles="editeur",
        company_name="EBP",
        api_key_prefix=editor_prefix,
        api_key_hash=editor_hash,
        plan="pro",
        deployments_count=2,  # the demo deployment and the one with small quotas
        created_at=now,
    ).save()
    UserItem(
        ADMIN_ID,
        email="admin@aimanager.example",
        name="Admin",
        roles="admin",
        company_name="AI-Manager",
        api_key_prefix=admin_prefix,
        api_key_hash=admin_hash,
        created_at=now,
    ).save()
    UniqueItem(email_guard("integration@ebp.example"), ref=EDITOR_ID).save()
    UniqueItem(email_guard("admin@aimanager.example"), ref=ADMIN_ID).save()
    deployment_key = previous.get("deployment_key") or f"dpl_{secrets.token_urlsafe(18)}"
    UniqueItem(name_guard(AGENT_ID, EDITOR_ID, "Expert BTP - EBP (démo locale)"), ref=deployment_key).save()
    repo.save_deployment(
        DeploymentItem(
            deployment_key,
            agent_id=AGENT_ID,
            editor_id=EDITOR_ID,
            name="Expert BTP - EBP (démo locale)",
            deployment_mode="dedicated",
            config_overlay={
                "welcome_message": "Bonjour ! Je suis l'assistant travaux d'EBP. Décrivez votre projet.",
                "placeholder": "Décrivez vos travaux...",
                "system_prompt_append": "Tu réponds pour le compte de l'éditeur EBP.",
            },
            branding={"chat_title": "Assistant EBP", "primary_color": "#0055A4", "powered_by": True},
            # The spec's default; `make bench` raises it (AIMANAGER_DEMO_RATE_LIMIT) to send 200 turns a minute.
            rate_limit_per_ip=int(os.environ.get("AIMANAGER_DEMO_RATE_LIMIT") or 60),
            is_active=True,
            created_at=now,
        ),
        [AllowedDomain("localhost", environment="localhost"), AllowedDomain("127.0.0.1", environment="localhost")],
    )
    # A second deployment of the same editor with small daily quotas, to see the limits at work locally.
    limited_key = previous.get("limited_deployment_key") or f"dpl_{secrets.token_urlsafe(18)}"
    repo.save_deployment(
        DeploymentItem(
            limited_key,
            agent_id=AGENT_ID,
            editor_id=EDITOR_ID,
            name="Expert BTP - EBP (quotas de démo)",
            deployment_mode="dedicated",
            branding={"chat_title": "Assistant EBP (quotas)", "primary_color": "#0055A4", "powered_by": True},
            rate_limit_per_ip=60,
            max_sessions_day=3,
            max_messages_day=5,
            is_active=True,
            created_at=now,
        ),
        [AllowedDomain("localhost", environment="localhost"), AllowedDomain("127.0.0.1", environment="localhost")],
    )
    _seed_artisan(now)
    UniqueItem(name_guard(AGENT_ID, EDITOR_ID, "Expert BTP - EBP (quotas de démo)"), ref=limited_key).save()
    data = DemoData(
        api_url=api_url,
        deployment_key=deployment_key,
        editor_api_key=editor_key,
        admin_api_key=admin_key,
        limited_deployment_key=limited_key,
        artisan_id=ARTISAN_ID,
        artisan_external_id=ARTISAN_EXTERNAL_ID,
        **_artisan_access(api_url, deployment_key),
    )
    demo_file.parent.mkdir(parents=True, exist_ok=True)
    demo_file.write_text(json.dumps(asdict(data), indent=2) + "\n")
    return data


def _seed_artisan(now: str) -> None:
    """Durant Peinture (§17.5) and its link to EBP, with the uniqueness guards the API would have written."""
    email = "contact@durant-peinture.example"
    UserItem(
        ARTISAN_ID,
        email=email,
        name="Durant Peinture",
        roles="artisan",
        company_name="Durant Peinture",
        phone="06 12 34 56 78",
        branding={"primary_color": "#E53935", "signature": "L'équipe Durant Peinture"},
        marketplace_enabled=True,
        created_at=now,
    ).save()
    UniqueItem(email_guard(email), ref=ARTISAN_ID).save()
    UserEditorLinkItem(
        ARTISAN_LINK_ID,
        artisan_id=ARTISAN_ID,
        editor_id=EDITOR_ID,
        external_id=ARTISAN_EXTERNAL_ID,
        branding={"welcome_message": "Bonjour, je suis l'assistant de {artisan.name}. Décrivez-moi votre projet."},
        permissions={"can_create_sessions": True, "can_view_analytics": False, "max_sessions_month": None},
        is_active=True,
        linked_at=now,
    ).save()
    UniqueItem(pair_guard(ARTISAN_ID, EDITOR_ID), ref=ARTISAN_LINK_ID).save()
    UniqueItem(external_id_guard(EDITOR_ID, ARTISAN_EXTERNAL_ID), ref=ARTISAN_LINK_ID).save()


def _artisan_access(api_url: str, deployment_key: str) -> dict[str, str]:
    """A fresh share link for Durant on the demo deployment, and a bearer token for his API (EBP's, as EBP's
    software would mint it: scoped to EBP)."""
    from aimanager.adapters.secrets import signing_secret
    from aimanager.models.share_links import CreateLinkIn
    from aimanager.services.artisans import issue_bearer
    from aimanager.services.share_links import create_link

    secret = signing_secret()
    link = create_link(
        EDITOR_ID,
        CreateLinkIn(
            deployment_key=deployment_key,
            artisan_external_id=ARTISAN_EXTERNAL_ID,
            context={"project_type": "renovation_sdb", "source": "demo"},
        ),
        secret,
        api_url,
    )
    token = issue_bearer(EDITOR_ID, ARTISAN_ID, 86400, secret).access_token
    return {"share_link_url": link.url, "artisan_token": token}


def seed_knowledge(client: Any, embed: Any) -> int:
    """The agent's RAG collection (recreated each run from KNOWLEDGE); returns the number of points."""
    from qdrant_client.models import Distance, PointStruct, VectorParams

    vectors = [embed(text) for text in KNOWLEDGE]
    if client.collection_exists(KNOWLEDGE_COLLECTION):
        client.delete_collection(KNOWLEDGE_COLLECTION)
    client.create_collection(
        KNOWLEDGE_COLLECTION, vectors_config=VectorParams(size=len(vectors[0]), distance=Distance.COSINE)
    )
    client.upsert(
        KNOWLEDGE_COLLECTION,
        points=[
            PointStruct(id=i + 1, vector=v, payload={"text": t})
            for i, (t, v) in enumerate(zip(KNOWLEDGE, vectors, strict=True))
        ],
    )
    return len(KNOWLEDGE)
