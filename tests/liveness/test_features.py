"""Per-frame features: who counts as a second person in view (synthetic meshes, and the real landmarker on a
composed picture, skipped without ../shared/data)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from tests.support import need_data

from realname.liveness.features import BYSTANDER_SCALE, is_second_person


def mesh(x: float, y: float, size: float) -> np.ndarray:
    """A square cloud of landmark points ``size`` pixels across, top-left at (x, y)."""
    grid = np.linspace(0.0, size, 8)
    xs, ys = np.meshgrid(grid, grid)
    return np.stack([xs.ravel() + x, ys.ravel() + y], axis=1)


def test_a_face_near_the_customers_size_beside_them_is_a_second_person() -> None:
    customer = mesh(100, 100, 200)
    assert is_second_person(customer, mesh(350, 120, 180))
    assert is_second_person(customer, mesh(350, 120, 200 * BYSTANDER_SCALE))  # the bound itself counts


def test_a_much_smaller_face_behind_is_a_bystander_and_an_overlapping_mesh_is_the_same_face() -> None:
    customer = mesh(100, 100, 200)
    assert not is_second_person(customer, mesh(400, 50, 200 * BYSTANDER_SCALE - 1))
    assert not is_second_person(customer, mesh(60, 40, 60))
    assert not is_second_person(customer, mesh(110, 105, 190))  # a second mesh laid over the same face


@pytest.mark.models
def test_the_landmarker_counts_a_second_customer_but_not_a_small_face_far_behind() -> None:
    from realname.liveness.features import FrameAnalyzer
    from realname.liveness.video import read_frames

    clip = need_data("liveness", "genuine", "person_a_turns_nods.mp4")
    face = next(img for img, t in read_frames(clip) if t >= 0.5)
    h, w = face.shape[:2]

    def faces(other_scale: float) -> int:
        canvas = np.full((h, 2 * w, 3), 90, np.uint8)
        canvas[:, :w] = face
        small = cv2.resize(face, None, fx=other_scale, fy=other_scale, interpolation=cv2.INTER_AREA)
        sh, sw = small.shape[:2]
        canvas[(h - sh) // 3:(h - sh) // 3 + sh, w + (w - sw) // 2:w + (w - sw) // 2 + sw] = small
        analyzer = FrameAnalyzer()
        try:
            return analyzer.analyse(canvas, 0.0).faces
        finally:
            analyzer.close()

    assert faces(0.95) == 2  # two people side by side at the counter
    assert faces(0.4) == 1  # someone far behind, well under half the customer's height
