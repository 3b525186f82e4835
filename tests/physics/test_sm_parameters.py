"""Derived sm parameters against the values MadGraph 3.5.7 printed (tests/data copies)."""

from __future__ import annotations

import math

import pytest

from hepflow.physics.sm_parameters import SMParameters

# The MadGraph reference README's table "Derived values, as printed by MadGraph's Fortran".
README_VALUES = {
    "MW": 80.419002445756163,
    "sw2": 0.22224648578577766,
    "cw": 0.88190334743339216,
    "ee": 0.30795376724436879,
    "gs": 1.2177157847767195,
    "vev": 246.21845810181637,
}


@pytest.mark.parametrize(("name", "value"), sorted(README_VALUES.items()))
def test_derived_values_match_readme(name, value):
    assert math.isclose(getattr(SMParameters(), name), value, rel_tol=1e-12)


def test_derived_values_match_every_record_params(load_data):
    params = load_data("mg5_matrix_elements_ee_mumu.json")["params"]
    printed = params["derived_as_printed_by_mg5_fortran"]
    sm = SMParameters()
    ours = {
        "mdl_MW": sm.MW,
        "mdl_aEW": sm.aEW,
        "mdl_ee": sm.ee,
        "mdl_sw2": sm.sw2,
        "mdl_cw": sm.cw,
        "mdl_sw": sm.sw,
        "mdl_g1": sm.g1,
        "mdl_gw": sm.gw,
        "mdl_vev": sm.vev,
        "mdl_yt": sm.yt,
        "mdl_sqrt__aS": math.sqrt(sm.aS),
        "mdl_G__exp__2": sm.gs**2,
    }
    assert set(ours) == set(printed)
    for key, value in ours.items():
        assert math.isclose(value, printed[key], rel_tol=1e-12), key
    assert math.isclose(sm.gs, params["gs_used"], rel_tol=1e-12)
    for key, value in params["external_inputs"].items():
        if key != "massless":
            assert getattr(sm, key) == value, key


def test_default_card_gives_the_defaults():
    assert SMParameters.from_card() == SMParameters()


def test_couplings_in_madgraph_convention():
    sm = SMParameters()
    # UFO sm: GC_1 = -ee i/3 (d), GC_2 = 2 ee i/3 (u), GC_3 = -ee i (e)
    assert sm.photon_coupling(1) == pytest.approx(-1j * sm.ee / 3, rel=1e-15)
    assert sm.photon_coupling(-2) == pytest.approx(2j * sm.ee / 3, rel=1e-15)
    assert sm.photon_coupling(13) == pytest.approx(-1j * sm.ee, rel=1e-15)
    # neutrinos: left-handed only, i e / (2 sw cw) (UFO sm GC_62)
    gl, gr = sm.z_couplings(12)
    assert gl == pytest.approx(1j * sm.ee / (2 * sm.sw * sm.cw), rel=1e-15)
    assert gr == 0
    # charged leptons: g_R / g_L = -Q sw2 / (T3 - Q sw2)
    gl, gr = sm.z_couplings(11)
    assert (gr / gl).real == pytest.approx(sm.sw2 / (-0.5 + sm.sw2), rel=1e-14)
    with pytest.raises(ValueError, match="PDG id 21 is not an sm fermion"):
        sm.z_couplings(21)


def test_neutral_current_amplitudes_are_the_vertex_products_over_the_propagators():
    """c_ij s e^2 = -(photon vertices / s + Z vertices / (s - MZ^2 + i MZ WZ)) s^2 / s, from
    the MadGraph-convention couplings; without the Z only Q Q' is left."""
    sm, s = SMParameters(), 200.0**2
    amplitudes = sm.neutral_current_amplitudes(-11, 2, s)
    z_e, z_u = sm.z_couplings(11), sm.z_couplings(2)
    a_e, a_u = sm.photon_coupling(11), sm.photon_coupling(2)
    for i in range(2):
        for j in range(2):
            currents = a_e * a_u / s + z_e[i] * z_u[j] / complex(s - sm.MZ**2, sm.MZ * sm.WZ)
            assert amplitudes[i][j] == pytest.approx(-currents * s / sm.ee**2, rel=1e-13)
    photon_only = sm.neutral_current_amplitudes(11, 1, s, z_boson=False)
    assert photon_only == ((1 / 3, 1 / 3), (1 / 3, 1 / 3))  # Q_e Q_d = (-1)(-1/3)


def test_masses_and_widths_by_pdg():
    sm = SMParameters()
    assert sm.mass(-6) == 173.0 and sm.width(6) == 1.4915
    assert sm.mass(24) == sm.MW and sm.width(23) == 2.441404
    assert sm.mass(11) == 0.0 and sm.width(11) == 0.0
