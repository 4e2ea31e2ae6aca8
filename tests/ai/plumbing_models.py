"""Tiny RANDOM-WEIGHT models built inside the plumbing tests (no download, nothing pretrained).

They exist to drive lpc's real loaders (core/ai/user_weights.py, core/ai/runners/diffusion.py, vision.py)
end to end: save_pretrained into a temp -aiModelsDir, write a SHA256SUMS manifest, load, infer. Their
output is noise by construction; the tests check shapes, sizes, types, seeds and error paths, never what
the pictures or captions say, and nothing they make is ever shown as a model result.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

SEED = 0


def write_manifest(directory: Path) -> Path:
    """SHA256SUMS for every file under `directory`, as `find -L . -type f -exec sha256sum {} +` writes it."""
    lines = []
    for root, _dirs, files in os.walk(directory):
        for name in sorted(files):
            path = Path(root, name)
            rel = path.relative_to(directory).as_posix()
            if rel == "SHA256SUMS":
                continue
            lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  ./{rel}")
    out = directory / "SHA256SUMS"
    out.write_text("\n".join(lines) + "\n")
    return out


def flip_byte(path: Path, offset: int = -10) -> None:
    """Corrupt one byte in place, keeping the size (the case a size check would miss), and move the mtime
    on so it differs even on a file system with coarse timestamps."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    st = path.stat()
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def png_bytes(width: int, height: int, seed: int = 1) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


# ------------------------------------------------------------------------------------------ diffusers
def clip_tokenizer(tmp: Path):
    """A CLIP BPE tokenizer over single letters (no merges): enough for prompts to become token ids."""
    from transformers import CLIPTokenizer

    tmp.mkdir(parents=True, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    letters = "abcdefghijklmnopqrstuvwxyz"
    for c in letters:
        vocab[c] = len(vocab)
    for c in letters:
        vocab[c + "</w>"] = len(vocab)
    (tmp / "vocab.json").write_text(json.dumps(vocab))
    (tmp / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(tmp / "vocab.json"), str(tmp / "merges.txt"), model_max_length=16), len(vocab)


def _sd_parts(tmp: Path, unet_in_channels: int):
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(SEED)
    tokenizer, vocab_size = clip_tokenizer(tmp / "tokenizer-src")
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=16,
                                in_channels=unet_in_channels, out_channels=4,
                                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32)
    vae = AutoencoderKL(block_out_channels=(32, 64), in_channels=3, out_channels=3,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        latent_channels=4)
    text_encoder = CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32,
                                                intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
                                                vocab_size=vocab_size, max_position_embeddings=16, projection_dim=32))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    return dict(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler,
                safety_checker=None, feature_extractor=None, requires_safety_checker=False)


def tiny_safety_checker_flagging_everything():
    """diffusers' StableDiffusionSafetyChecker on a tiny random CLIP, with concept thresholds set so every
    image is flagged: a checker whose verdict is known, to see that the verdict reaches the response."""
    import torch
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    torch.manual_seed(SEED)
    config = CLIPConfig(text_config=dict(hidden_size=32, intermediate_size=37, num_attention_heads=4,
                                         num_hidden_layers=1, vocab_size=64),
                        vision_config=dict(hidden_size=32, intermediate_size=37, num_attention_heads=4,
                                           num_hidden_layers=1, image_size=32, patch_size=8),
                        projection_dim=32)
    checker = StableDiffusionSafetyChecker(config)
    with torch.no_grad():
        checker.concept_embeds_weights.fill_(-10.0)  # cosine distance (>= -1) minus -10 is always > 0
    return checker, CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})


def save_tiny_stable_diffusion(directory: Path, *, safety_checker: bool = False, variant: str | None = None) -> Path:
    """A StableDiffusionPipeline (text-to-image; AutoPipelineForImage2Image turns it into img2img), with
    a safety checker that flags every image when `safety_checker`; `variant="fp16"` saves only half-precision
    *.fp16.safetensors files, as a download of just the fp16 variant leaves them."""
    from diffusers import StableDiffusionPipeline

    parts = _sd_parts(directory.parent / (directory.name + "-src"), 4)
    if safety_checker:
        checker, extractor = tiny_safety_checker_flagging_everything()
        parts.update(safety_checker=checker, feature_extractor=extractor, requires_safety_checker=True)
    pipe = StableDiffusionPipeline(**parts)
    if variant == "fp16":
        import torch

        pipe = pipe.to(torch.float16)
    pipe.save_pretrained(directory, variant=variant)
    write_manifest(directory)
    return directory


def save_tiny_instruct_pix2pix(directory: Path) -> Path:
    """A StableDiffusionInstructPix2PixPipeline (its UNet takes the image latents too: 8 input channels)."""
    from diffusers import StableDiffusionInstructPix2PixPipeline

    StableDiffusionInstructPix2PixPipeline(**_sd_parts(directory.parent / (directory.name + "-src"), 8)) \
        .save_pretrained(directory)
    write_manifest(directory)
    return directory


def save_tiny_sd_x4_upscaler(directory: Path) -> Path:
    """A StableDiffusionUpscalePipeline shaped like stabilityai/stable-diffusion-x4-upscaler: the UNet takes
    latents + the low-resolution image (7 channels) and a noise-level class, the VAE decodes 4x."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, DDPMScheduler, StableDiffusionUpscalePipeline, UNet2DConditionModel

    parts = _sd_parts(directory.parent / (directory.name + "-src"), 4)
    torch.manual_seed(SEED)
    unet = UNet2DConditionModel(block_out_channels=(32, 32, 64), layers_per_block=1, sample_size=8, in_channels=7,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
                                cross_attention_dim=32, attention_head_dim=8, num_class_embeds=400)
    vae = AutoencoderKL(block_out_channels=(32, 32, 64), in_channels=3, out_channels=3,
                        down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
                        latent_channels=4, scaling_factor=0.08333)
    StableDiffusionUpscalePipeline(vae=vae, text_encoder=parts["text_encoder"], tokenizer=parts["tokenizer"], unet=unet,
                                   low_res_scheduler=DDPMScheduler(), scheduler=DDIMScheduler(prediction_type="v_prediction"),
                                   max_noise_level=350).save_pretrained(directory)
    write_manifest(directory)
    return directory


def save_tiny_stable_video_diffusion(directory: Path, num_frames: int = 3) -> Path:
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    torch.manual_seed(SEED)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=4, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"), cross_attention_dim=32,
        num_attention_heads=2, projection_class_embeddings_input_dim=96, addition_time_embed_dim=32,
        num_frames=num_frames)
    scheduler = EulerDiscreteScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                                       interpolation_type="linear", num_train_timesteps=1000,
                                       prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002,
                                       steps_offset=1, timestep_spacing="leading", timestep_type="continuous",
                                       use_karras_sigmas=True)
    vae = AutoencoderKLTemporalDecoder(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                                       down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"], latent_channels=4)
    # SVD resizes its conditioning image to 224x224 itself, so the image encoder takes 224 (in 7x7 patches)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(hidden_size=32, projection_dim=32, num_hidden_layers=1,
                                                             num_attention_heads=4, image_size=224,
                                                             intermediate_size=37, patch_size=32))
    StableVideoDiffusionPipeline(vae=vae, image_encoder=encoder, unet=unet, scheduler=scheduler,
                                 feature_extractor=CLIPImageProcessorPil(crop_size=32, size=32)).save_pretrained(directory)
    write_manifest(directory)
    return directory


# ------------------------------------------------------------------------------------------ transformers
BLIP_WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]", "a", "photo", "of", "cat", "dog", "the", "on", "red"]


def save_tiny_blip(directory: Path) -> Path:
    """BlipForConditionalGeneration at hidden size 32, one layer each, with a BERT tokenizer over BLIP_WORDS
    and the Pillow image processor (BlipProcessor)."""
    import torch
    from transformers import BertTokenizer, BlipConfig, BlipForConditionalGeneration, BlipProcessor
    from transformers.models.blip.configuration_blip import BlipTextConfig, BlipVisionConfig
    from transformers.models.blip.image_processing_pil_blip import BlipImageProcessorPil

    vocab = {w: i for i, w in enumerate(BLIP_WORDS)}
    tokenizer = BertTokenizer(vocab=vocab, bos_token="[DEC]", model_max_length=32)
    processor = BlipProcessor(image_processor=BlipImageProcessorPil(size={"height": 32, "width": 32}),
                              tokenizer=tokenizer)
    text = BlipTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=37, num_hidden_layers=1,
                          num_attention_heads=2, encoder_hidden_size=32, max_position_embeddings=32,
                          bos_token_id=vocab["[DEC]"], pad_token_id=0, sep_token_id=vocab["[SEP]"],
                          eos_token_id=vocab["[SEP]"])
    vision = BlipVisionConfig(hidden_size=32, intermediate_size=37, num_hidden_layers=1, num_attention_heads=2,
                              image_size=32, patch_size=8, projection_dim=32)
    torch.manual_seed(SEED)
    model = BlipForConditionalGeneration(BlipConfig(text_config=text.to_dict(), vision_config=vision.to_dict(),
                                                    projection_dim=32))
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    write_manifest(directory)
    return directory


SAM2_SIZE = 128  # the tiny model's square input; its low-resolution masks are SAM2_SIZE / 4


def save_tiny_sam2(directory: Path) -> Path:
    """Sam2Model with a 4-stage Hiera of widths 16..128 at 128x128 input, 32-wide prompt encoder and decoder."""
    import torch
    from transformers import Sam2Config, Sam2Model
    from transformers.models.sam2.configuration_sam2 import (
        Sam2HieraDetConfig,
        Sam2MaskDecoderConfig,
        Sam2PromptEncoderConfig,
        Sam2VisionConfig,
    )

    s = SAM2_SIZE
    # a global-attention block may not open a stage (its window would pool to 0), hence 2 blocks in stage 3
    backbone = Sam2HieraDetConfig(hidden_size=16, num_attention_heads=1, image_size=[s, s], blocks_per_stage=[1, 1, 2, 1],
                                  embed_dim_per_stage=[16, 32, 64, 128], num_attention_heads_per_stage=[1, 1, 1, 1],
                                  window_size_per_stage=[4, 4, 4, 4], global_attention_blocks=[3],
                                  window_positional_embedding_background_size=[2, 2])
    vision = Sam2VisionConfig(backbone_config=backbone, backbone_channel_list=[128, 64, 32, 16],
                              backbone_feature_sizes=[[s // 4] * 2, [s // 8] * 2, [s // 16] * 2], fpn_hidden_size=32)
    config = Sam2Config(vision_config=vision,
                        prompt_encoder_config=Sam2PromptEncoderConfig(hidden_size=32, image_size=s, patch_size=16),
                        mask_decoder_config=Sam2MaskDecoderConfig(hidden_size=32, mlp_dim=64, num_attention_heads=2,
                                                                  iou_head_hidden_dim=32))
    torch.manual_seed(SEED)
    Sam2Model(config).save_pretrained(directory)
    write_manifest(directory)
    return directory


LLM_WORDS = ["<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>", "hello", "world", "what", "is",
             "the", "capital", "of", "france", "paris", "a", "cat", "dog", "yes", "no", "?", "."]
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} {% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")


def save_tiny_llama(directory: Path) -> Path:
    """LlamaForCausalLM at hidden size 32, one layer, with a word-level tokenizer (the `tokenizers`
    library) over LLM_WORDS and a small chat template."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(LLM_WORDS)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                        pad_token="</s>")
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(SEED)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                                         max_position_embeddings=128, bos_token_id=1, eos_token_id=2, pad_token_id=2))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    write_manifest(directory)
    return directory
