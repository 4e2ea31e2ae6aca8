"""The model runners: one real model behind one pipeline each (the ModelRunner port, core/ai/ports.py).

    whisper.WhisperRunner        audio-to-text, any CTranslate2 Whisper directory (faster-whisper)
    hibari_tts.HibariRunner      text-to-speech, hibari's bundled "heart" voice (onnxruntime)
    causal_lm.CausalLMRunner     llm, SmolLM2 from its GGUF or any save_pretrained directory (transformers)
    realesrgan.RealESRGANRunner  upscale, Real-ESRGAN ncnn models (ncnn, Vulkan when a GPU is found)

core/ai/bundled.py lists the ones whose weights ship in installed packages. Every engine is imported
inside load(), so importing a runner module costs nothing and needs none of the engines installed.
"""
