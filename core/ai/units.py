"""How much work an AI request is, in go-livepeer's pricing units, and what it costs.

    n = units(Pipeline.UPSCALE, request, facts)          # facts = core.ai.requests.validate_media(...)
    f = fee(n, price_per_unit=Fraction(4768371), pixels_per_unit=1)       # exact wei, a Fraction
    w = fee_wei(n, Fraction(4768371), 1)                                  # whole wei, rounded up

Units per request, as go-livepeer's orchestrator counts them in `handleAIRequest` (server/ai_http.go) so a
go gateway's payment and ours agree (ai-gateway-wire.md §5):

    text-to-image        height × width × num_images_per_prompt   (go uses 512 × 512 when a size is absent;
                                                                    our requests always carry one: the SDK's 576 × 1024)
    image-to-image       input height × input width × num_images_per_prompt
    upscale, segment-anything-2, image-to-text
                         input height × input width
    image-to-video       height × width × 25                       (25 = frames of stable-video-diffusion-img2vid-xt)
    audio-to-text        whole seconds of audio (truncated) × 1000 (billed as milliseconds)
    llm                  max_tokens                                (not the tokens generated)
    text-to-speech       1000 × characters of text                 (Unicode code points, go's utf8.RuneCountInString)

Fee: go keeps it exact, as a big.Rat: units × price_per_unit ÷ pixels_per_unit (`DebitFees`,
`estimateAIFee`); the balance it debits is a big.Rat too, and only the number of tickets is rounded
(up). `fee` is that exact value; `fee_wei` rounds it UP to whole wei, the least a gateway must have paid
for the orchestrator's balance not to go negative.
"""

from __future__ import annotations

import math
from fractions import Fraction

from core.ai.ports import (
    AIRequest,
    ImageToImageRequest,
    ImageToVideoRequest,
    LLMRequest,
    Pipeline,
    TextToImageRequest,
    TextToSpeechRequest,
)

VIDEO_FRAMES = 25  # go-livepeer bills image-to-video as 25 frames at the requested size
DEFAULT_T2I_SIZE = (512, 512)  # go's size when text-to-image carries none
DEFAULT_I2V_SIZE = (576, 1024)  # go's (height, width) when image-to-video carries none
MS_PER_SECOND = 1000
UNITS_PER_CHARACTER = 1000


def audio_units(seconds: float) -> int:
    """whole seconds × 1000: 8.9 s of audio -> 8000."""
    return int(math.floor(seconds)) * MS_PER_SECOND


def units(pipeline: Pipeline, request: AIRequest, facts=None) -> int:
    """The pricing units of one request. `facts` (core.ai.requests.MediaFacts) gives the input image's
    size or the audio's length for the pipelines priced by their input; ValueError if it is missing."""
    pipeline = Pipeline(pipeline)
    if pipeline is Pipeline.TEXT_TO_IMAGE:
        assert isinstance(request, TextToImageRequest)
        h = request.height or DEFAULT_T2I_SIZE[0]
        w = request.width or DEFAULT_T2I_SIZE[1]
        return h * w * (request.num_images_per_prompt or 1)
    if pipeline is Pipeline.IMAGE_TO_VIDEO:
        assert isinstance(request, ImageToVideoRequest)
        h = request.height or DEFAULT_I2V_SIZE[0]
        w = request.width or DEFAULT_I2V_SIZE[1]
        return h * w * VIDEO_FRAMES
    if pipeline is Pipeline.LLM:
        assert isinstance(request, LLMRequest)
        return request.max_tokens
    if pipeline is Pipeline.TEXT_TO_SPEECH:
        assert isinstance(request, TextToSpeechRequest)
        return UNITS_PER_CHARACTER * len(request.text)  # str length = code points = RuneCountInString
    if pipeline is Pipeline.AUDIO_TO_TEXT:
        if facts is None or facts.audio_s is None:
            raise ValueError("audio-to-text units need the audio's length (validate_media first)")
        return audio_units(facts.audio_s)
    if facts is None or facts.width is None or facts.height is None:
        raise ValueError(f"{pipeline.value} units need the input image's size (validate_media first)")
    pixels = facts.width * facts.height
    if pipeline is Pipeline.IMAGE_TO_IMAGE:
        assert isinstance(request, ImageToImageRequest)
        return pixels * (request.num_images_per_prompt or 1)
    return pixels  # upscale, segment-anything-2, image-to-text


def price_per_pixel(price_per_unit: Fraction, pixels_per_unit: int) -> Fraction:
    """wei per unit of work: price_per_unit ÷ pixels_per_unit, exact."""
    if pixels_per_unit <= 0:
        raise ValueError(f"pixels_per_unit must be at least 1, got {pixels_per_unit}")
    return Fraction(price_per_unit) / pixels_per_unit


def fee(units_: int, price_per_unit: Fraction, pixels_per_unit: int) -> Fraction:
    """units × price_per_unit ÷ pixels_per_unit in wei, exact (go's big.Rat)."""
    return units_ * price_per_pixel(price_per_unit, pixels_per_unit)


def fee_wei(units_: int, price_per_unit: Fraction, pixels_per_unit: int) -> int:
    """The fee in whole wei, rounded up: ceil(units × price_per_unit ÷ pixels_per_unit)."""
    return math.ceil(fee(units_, price_per_unit, pixels_per_unit))
