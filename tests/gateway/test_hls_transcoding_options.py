"""`-transcodingOptions` as a go-livepeer operator writes it: preset names or a JSON file of profiles;
unknown names and bad files refused with words instead of silently dropped."""

import json

import pytest

from core.gateway.transcoding_options import TranscodingOptionsError, parse
from core.media.profiles import H264Profile, lpms_preset


def test_the_default_preset_names_give_the_default_ladder():
    assert parse("P240p30fps16x9,P360p30fps16x9") == (lpms_preset("P240p30fps16x9"), lpms_preset("P360p30fps16x9"))
    assert parse(" P144p30fps16x9 , ") == (lpms_preset("P144p30fps16x9"),)


def test_an_unknown_name_is_refused_naming_it_and_the_known_ones():
    with pytest.raises(TranscodingOptionsError) as e:
        parse("P240p30fps16x9,P720p30fps16X9")
    assert "'P720p30fps16X9'" in str(e.value) and "P720p30fps16x9" in str(e.value)
    assert "P240p30fps16x9'" not in str(e.value).split(";")[0]
    with pytest.raises(TranscodingOptionsError, match="no transcoding profiles"):
        parse(" , ")


def test_a_json_file_of_profiles(tmp_path):
    path = tmp_path / "ladder.json"
    path.write_text(json.dumps([
        {"name": "240p0", "width": 426, "height": 240, "bitrate": 250000, "fps": 0, "profile": "H264ConstrainedHigh",
         "gop": "1"},
        {"name": "360p0", "width": 640, "height": 360, "bitrate": 800000, "fps": 30, "fpsDen": 1, "gop": "intra",
         "encoder": "H264"},
    ]))
    low, high = parse(str(path))
    assert (low.name, low.width, low.height, low.bitrate, low.fps) == ("240p0", 426, 240, 250000, 0)
    assert low.profile is H264Profile.CONSTRAINED_HIGH and low.gop_ms == 1000
    assert (high.fps, high.gop_ms) == (30, -1)


@pytest.mark.parametrize("content, words", [
    ("{not json", "is not JSON"),
    ('{"name": "x"}', "must be a JSON array"),
    ("[]", "holds no profile"),
    ('[{"name": "a", "height": 240, "bitrate": 1}]', "'width' is missing"),
    ('[{"name": "a", "width": 426, "height": 240, "bitrate": 1, "profile": "H264Extreme"}]', "unknown profile"),
    ('[{"name": "a", "width": 426, "height": 240, "bitrate": 1, "gop": "often"}]', "gop"),
    ('[{"name": "a/b", "width": 426, "height": 240, "bitrate": 1}]', "playlist path"),
    ('[{"name": "a", "width": 8192, "height": 4320, "bitrate": 1}]', "larger than"),
    ('[{"name": "a", "width": 2, "height": 2, "bitrate": 1}, {"name": "a", "width": 4, "height": 4, "bitrate": 1}]',
     "two profiles"),
])
def test_a_bad_json_file_says_what_is_wrong(tmp_path, content, words):
    path = tmp_path / "ladder.json"
    path.write_text(content)
    with pytest.raises(TranscodingOptionsError, match=words):
        parse(str(path))


def test_a_missing_json_file_is_named(tmp_path):
    with pytest.raises(TranscodingOptionsError, match="cannot read the transcoding options file"):
        parse(str(tmp_path / "nope.json"))
