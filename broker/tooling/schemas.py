"""JSON Schemas and the AsyncAPI 3.0 document, generated from the contract models and the
dataset declarations. ``schemas/`` holds the checked-in copies; a test fails when they drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .. import registry
from ..kit import Dataset
from ..sdk.contract import (
    DEAD_EXCHANGE,
    DEAD_QUEUE,
    DEADLINE_HEADER,
    EXCHANGE,
    ErrorObject,
    Lane,
    ReplyBody,
    RequestBody,
    RequestProperties,
)

__all__ = ["asyncapi", "documents", "write_schemas"]


def _schema(model: type[BaseModel], mode: str = "validation") -> dict[str, Any]:
    return model.model_json_schema(mode=mode)  # type: ignore[arg-type]


def _key(dataset: Dataset) -> str:
    return f"{dataset.id}.v{dataset.version}"


def _properties() -> dict[str, Any]:
    schema: dict[str, Any] = _untitled(RequestProperties.model_json_schema(by_alias=True))
    schema["description"] = "AMQP properties of a request."
    schema["properties"][DEADLINE_HEADER].pop("default", None)
    return schema


def _untitled(schema: Any) -> Any:
    """The schema without pydantic's generated titles (the AsyncAPI names its parts)."""
    if isinstance(schema, dict):
        return {k: _untitled(v) for k, v in schema.items() if k != "title"}
    if isinstance(schema, list):
        return [_untitled(v) for v in schema]
    return schema


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the broker: one message per dataset and version."""
    messages: dict[str, Any] = {}
    replies: dict[str, Any] = {}
    for dataset in registry.datasets():
        key = _key(dataset)
        messages[f"request.{key}"] = {
            "name": f"request.{key}",
            "title": f"{dataset.title} (v{dataset.version})",
            "summary": f"Mirrors API Particulier's {dataset.route}.",
            "contentType": "application/json",
            "headers": _properties(),
            "correlationId": {"location": "$message.header#/correlation_id"},
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/Request"},
                    {
                        "type": "object",
                        "properties": {
                            "dataset": {"const": dataset.id},
                            "version": {"enum": [dataset.version, None]},
                            "params": {"$ref": f"#/components/schemas/{key}.params"},
                        },
                    },
                ]
            },
            "bindings": {"amqp": {"messageType": dataset.id, "deliveryMode": 2}},
            "examples": [
                {
                    "payload": {
                        "dataset": dataset.id,
                        "version": dataset.version,
                        "recipient": "13002526500013",
                        "params": dict(dataset.example_params),
                    }
                }
            ],
        }
        replies[f"reply.{key}"] = {
            "name": f"reply.{key}",
            "contentType": "application/json",
            "correlationId": {"location": "$message.header#/correlation_id"},
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/Reply"},
                    {
                        "type": "object",
                        "properties": {
                            "data": {
                                "anyOf": [
                                    {"$ref": f"#/components/schemas/{key}.data"},
                                    {"type": "null"},
                                ]
                            }
                        },
                    },
                ]
            },
        }
    schemas: dict[str, Any] = {
        "Request": _schema(RequestBody),
        "Reply": _schema(ReplyBody, "serialization"),
        "Error": _schema(ErrorObject),
    }
    for dataset in registry.datasets():
        schemas[f"{_key(dataset)}.params"] = _schema(dataset.params)
        schemas[f"{_key(dataset)}.data"] = _schema(dataset.data, "serialization")
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "API Particulier broker",
            "version": "1.0.0",
            "description": "Verification requests of public bodies and their certified replies. "
            "Same datasets, fields, scopes and error codes as API Particulier v3.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:5672",
                "protocol": "amqp",
                "protocolVersion": "0-9-1",
                "description": "Development RabbitMQ.",
            }
        },
        "channels": {
            "requests": {
                "address": "{lane}.{provider}.{dataset}",
                "title": f"Exchange {EXCHANGE}",
                "parameters": {
                    "lane": {"enum": [lane.value for lane in Lane]},
                    "provider": {"enum": sorted(registry.providers())},
                    "dataset": {"description": "Dataset name within the provider."},
                },
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
                "bindings": {
                    "amqp": {
                        "is": "routingKey",
                        "exchange": {
                            "name": EXCHANGE,
                            "type": "topic",
                            "durable": True,
                            "autoDelete": False,
                            "vhost": "/",
                        },
                    }
                },
            },
            "replies": {
                "address": None,
                "title": "The requester's reply queue (reply_to)",
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in replies},
            },
            "dead": {
                "address": DEAD_QUEUE,
                "title": f"Exchange and queue {DEAD_EXCHANGE}: unanswerable messages with "
                "their reason in header x-dead-reason",
                "bindings": {
                    "amqp": {"is": "queue", "queue": {"name": DEAD_QUEUE, "durable": True}}
                },
            },
        },
        "operations": {
            "sendRequest": {
                "action": "send",
                "channel": {"$ref": "#/channels/requests"},
                "summary": "Ask for a dataset about one person.",
                "reply": {
                    "address": {"location": "$message.header#/reply_to"},
                    "channel": {"$ref": "#/channels/replies"},
                },
            },
            "receiveReply": {
                "action": "receive",
                "channel": {"$ref": "#/channels/replies"},
                "summary": "The signed reply, with the request's correlation_id.",
            },
        },
        "components": {
            "schemas": schemas,
            "messages": {**messages, **replies},
        },
    }


def documents() -> dict[str, Any]:
    """Every file of ``schemas/`` by relative path."""
    docs: dict[str, Any] = {
        "request.schema.json": _schema(RequestBody),
        "reply.schema.json": _schema(ReplyBody, "serialization"),
        "error.schema.json": _schema(ErrorObject),
        "asyncapi.json": asyncapi(),
    }
    for dataset in registry.datasets():
        docs[f"datasets/{_key(dataset)}.params.schema.json"] = _schema(dataset.params)
        docs[f"datasets/{_key(dataset)}.data.schema.json"] = _schema(dataset.data, "serialization")
    return docs


def render(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def write_schemas(out: Path) -> list[Path]:
    written = []
    for name, document in documents().items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    return written
