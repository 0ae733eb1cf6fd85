"""The SIV's SOAP 1.1 dialect, both ways: the worker's requests and readings, the simulator's
answers. XML is read with defusedxml only: no entity, no DTD, no external resource is ever
expanded or fetched, whoever sent the document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

__all__ = ["NUMBERS", "SIV", "SOAP", "Unreadable", "document", "fault", "read"]

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
SIV = "urn:ants:siv:consultation:v1"
_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

NUMBERS = frozenset(
    {"anneeNaissance", "moisNaissance", "jourNaissance", "ptac", "cylindree", "co2"}
)
"""The SIV's numeric elements (``xs:integer``/``xs:decimal`` in its schema): read as numbers."""


class Unreadable(ValueError):
    """Not a SOAP document of the SIV's: malformed, hostile (entities, DTD) or misshapen."""


def document(operation: str, content: Mapping[str, Any]) -> bytes:
    """A SOAP envelope whose body holds ``operation`` with ``content`` as child elements."""
    envelope = Element(f"{{{SOAP}}}Envelope")
    body = SubElement(envelope, f"{{{SOAP}}}Body")
    _fill(SubElement(body, f"{{{SIV}}}{operation}"), content)
    return _serialised(envelope)


def read(raw: bytes, operation: str) -> dict[str, Any]:
    """The content of ``operation`` in a SOAP envelope, as nested dicts (a repeated element is
    a list, an empty or nil one ``None``, a numeric one a number)."""
    try:
        root = fromstring(raw, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError, LookupError):
        raise Unreadable("not a readable XML document") from None
    node = root.find(f"{{{SOAP}}}Body/{{{SIV}}}{operation}")
    if root.tag != f"{{{SOAP}}}Envelope" or node is None:
        raise Unreadable(f"no {operation} in a SOAP body")
    value = _value(node)
    return value if isinstance(value, dict) else {}


def _serialised(envelope: Element) -> bytes:
    written: bytes = tostring(envelope, encoding="utf-8", xml_declaration=True)
    return written


def _fill(parent: Element, content: Mapping[str, Any]) -> None:
    for name, value in content.items():
        for item in value if isinstance(value, list) else [value]:
            child = SubElement(parent, f"{{{SIV}}}{name}")
            if isinstance(item, Mapping):
                _fill(child, item)
            elif item is None:
                child.set(_NIL, "true")
            else:
                child.text = str(item)


def _value(node: Element) -> Any:
    children = list(node)
    if not children:
        text = (node.text or "").strip()
        if node.get(_NIL) == "true" or not text:
            return None
        return _number(text) if _local(node.tag) in NUMBERS else text
    out: dict[str, Any] = {}
    for child in children:
        name, value = _local(child.tag), _value(child)
        if name in out:
            previous = out[name]
            out[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[name] = value
    return out


def _number(text: str) -> int | float | str:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def fault(reason: str, *, client: bool = False) -> bytes:
    """A SOAP 1.1 fault (sent with HTTP 500): the upstream could not serve the request."""
    envelope = Element(f"{{{SOAP}}}Envelope")
    body = SubElement(envelope, f"{{{SOAP}}}Body")
    failed = SubElement(body, f"{{{SOAP}}}Fault")
    SubElement(failed, "faultcode").text = "soap:Client" if client else "soap:Server"
    SubElement(failed, "faultstring").text = reason
    return _serialised(envelope)
