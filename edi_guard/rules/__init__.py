"""The edit catalog (docs/rules.md): one module per rule code, and the registry in run order.

Codes are a public contract: reports, logs, the policy file and the tests name rules by
them. The order matters because the engine runs each rule on the claim as the corrections
before it left it:

1. claim integrity on the claim as received: CLM001 (before any dropped line changes CLM02),
   CLM002;
2. mechanical corrections of the TPI line form: TPI001 units, TPI002 modifier 50, TPI003
   modifier 25 (moved to the E/M), TPI004 and TPI005 (drop same-day repeats);
3. TPI006 (repeated 20552 left after TPI005), TPI007 (muscle count; may downcode), TPI008
   (E/M without 25, after TPI003 moved it);
4. the drug: TPI011-TPI016 (TPI014 after TPI013 filled SV101-7);
5. same-day services: TPI017-TPI019; the diagnosis: TPI020;
6. history last, on the claim's final lines: TPI009, TPI010.
"""

from __future__ import annotations

from typing import Final

from edi_guard.rules import (
    clm001_charge_total_mismatch,
    clm002_service_date_missing,
    tpi001_units_not_one,
    tpi002_bilateral_modifier,
    tpi003_modifier_25_on_tpi,
    tpi004_duplicate_20553,
    tpi005_20552_with_20553,
    tpi006_20552_repeated,
    tpi007_muscle_count,
    tpi008_em_without_25,
    tpi009_session_frequency,
    tpi010_duplicate_session,
    tpi011_drug_line_missing,
    tpi012_drug_date_unmatched,
    tpi013_noc_drug_description,
    tpi014_noc_drug_units,
    tpi015_facility_drug_code,
    tpi016_waste_modifier_missing,
    tpi017_anesthesia_same_day,
    tpi018_imaging_guidance,
    tpi019_ncci_ptp_pair,
    tpi020_diagnosis,
)
from edi_guard.rules.base import Rule

REGISTRY: Final[tuple[Rule, ...]] = (
    clm001_charge_total_mismatch.RULE,
    clm002_service_date_missing.RULE,
    tpi001_units_not_one.RULE,
    tpi002_bilateral_modifier.RULE,
    tpi003_modifier_25_on_tpi.RULE,
    tpi004_duplicate_20553.RULE,
    tpi005_20552_with_20553.RULE,
    tpi006_20552_repeated.RULE,
    tpi007_muscle_count.RULE,
    tpi008_em_without_25.RULE,
    tpi011_drug_line_missing.RULE,
    tpi012_drug_date_unmatched.RULE,
    tpi013_noc_drug_description.RULE,
    tpi014_noc_drug_units.RULE,
    tpi015_facility_drug_code.RULE,
    tpi016_waste_modifier_missing.RULE,
    tpi017_anesthesia_same_day.RULE,
    tpi018_imaging_guidance.RULE,
    tpi019_ncci_ptp_pair.RULE,
    tpi020_diagnosis.RULE,
    tpi009_session_frequency.RULE,
    tpi010_duplicate_session.RULE,
)
"""Every rule of docs/rules.md, in run order."""

BY_CODE: Final[dict[str, Rule]] = {rule.code: rule for rule in REGISTRY}

__all__ = ["BY_CODE", "REGISTRY"]
