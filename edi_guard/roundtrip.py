"""Read, assemble and write a file again: the streaming core priced layer by layer.

Used by the benchmark (``bench/``) to measure the tokenizer, assembler and writer alone, and
with the engine, against ``edi-guard fix`` as a whole.
"""

from __future__ import annotations

from pathlib import Path

from edi_guard.assemble import Assembler, Block, BlockKind, ClaimUnit, Item
from edi_guard.corrected import CorrectedWriter
from edi_guard.engine import Engine
from edi_guard.pipeline import CHUNK_SIZE
from edi_guard.policy import Policy


def roundtrip(source: Path, destination: Path, *, edit: bool = False, rules: bool = True) -> int:
    """Read, assemble and write a file again: the streaming core without validation.

    With ``edit``, each claim also goes through the engine as ``fix`` runs it (the screen,
    then mapping and every rule for the claims it leaves, an in-memory history) and the
    corrected claims are written as ``fix`` writes them. ``rules=False`` gives the engine an
    empty registry: claims are screened, mapped, hashed and viewed, and no rule runs, so the
    benchmark can price the rules (and what their findings cost the writer) by difference.
    Used by the benchmark to price each layer; returns the number of claims.
    """
    from edi_guard.history import Hasher
    from edi_guard.history.memory import MemoryStore
    from edi_guard.ptp import load_shipped
    from edi_guard.rules import REGISTRY
    from edi_guard.x12.tokenizer import Tokenizer
    from edi_guard.x12.writer import SegmentWriter

    engine = Engine(REGISTRY if rules else (), Policy.load(None), load_shipped())
    history = MemoryStore(Hasher(b"roundtrip"))
    beneficiary = history.hasher.beneficiary
    claims = 0
    tokenizer = Tokenizer()
    assembler = Assembler()
    with source.open("rb") as stream, destination.open("wb") as sink:
        plain = SegmentWriter(sink)
        corrected = CorrectedWriter(sink)

        def handle(item: Item) -> None:
            nonlocal claims
            if isinstance(item, ClaimUnit):
                claims += 1
                if not edit:
                    plain.write_all(item.segments)
                    return
                decision = engine.decide(item, history, beneficiary)
                corrected.claim(item, None if decision.rejected else decision.segments)
                return
            if not edit:
                plain.write_all(item.segments)
                return
            _drive_corrected(corrected, item)

        while chunk := stream.read(CHUNK_SIZE):
            for segments in tokenizer.feed_pieces(chunk):
                for segment in segments:
                    for item in assembler.feed(segment):
                        handle(item)
        tokenizer.close()
        for item in assembler.close():
            handle(item)
        if edit:
            corrected.finish(tokenizer.trailing)
        else:
            plain.write_bytes(tokenizer.trailing)
    return claims


def _drive_corrected(corrected: CorrectedWriter, block: Block) -> None:
    """Feed a structural block to the corrected writer, every unit taken as accepted."""
    kind = block.kind
    # Hierarchy blocks come once or twice per claim; envelope blocks once per unit.
    if kind is _HIERARCHY:
        corrected.hierarchy(block)
    elif kind is BlockKind.INTERCHANGE_HEADER:
        corrected.interchange(block)
    elif kind is BlockKind.GROUP_HEADER:
        corrected.group(block)
    elif kind is BlockKind.SET_HEADER:
        corrected.set_header(block)
    elif kind is BlockKind.SET_TRAILER:
        corrected.set_trailer(block, accepted=True)
    elif kind is BlockKind.GROUP_TRAILER:
        corrected.group_trailer(block, accepted=True)
    elif kind is BlockKind.INTERCHANGE_TRAILER:
        corrected.interchange_trailer(block, accepted=True)


_HIERARCHY = BlockKind.HIERARCHY
