"""Fakes of llama.cpp's server and LM Studio (shared/protocols.md §6): the OpenAI fake's ``/v1``,
plus each one's own way of saying the context a model is given: llama.cpp's ``GET /props`` (the
window it was started with) and LM Studio's ``GET /api/v0/models`` (each downloaded model with its
maximum, and the window a loaded one was loaded with). No key is checked, as neither asks one."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fakes.openai_upstream import FakeOpenAI

LLAMACPP_MODEL = "qwen2.5-coder-7b-instruct-q4_k_m.gguf"
LMSTUDIO_MODELS: tuple[dict[str, Any], ...] = (
    {"id": "qwen2.5-7b-instruct", "type": "llm", "state": "loaded", "max_context_length": 32768},
    {"id": "llama-3.2-3b-instruct", "type": "llm", "state": "not-loaded", "max_context_length": 131072},
    {"id": "text-embedding-nomic-embed-text-v1.5", "type": "embeddings", "max_context_length": 2048},
)


class FakeLlamaCpp(FakeOpenAI):
    def __init__(self, n_ctx: int) -> None:
        super().__init__(key=None, models=(LLAMACPP_MODEL,))
        self.n_ctx = n_ctx  # what ``-c`` started it with

    def add_routes(self, app: web.Application) -> None:
        super().add_routes(app)
        app.router.add_get("/props", self._props)

    async def _props(self, request: web.Request) -> web.Response:
        await self.record(request)
        settings = {"id": 0, "id_task": -1, "n_ctx": self.n_ctx, "speculative": False, "is_processing": False}
        return web.json_response(
            {
                "default_generation_settings": settings,
                "total_slots": 1,
                "model_path": f"/models/{LLAMACPP_MODEL}",
                "modalities": {"vision": False},
                "build_info": "b6500-fake",
            }
        )


class FakeLMStudio(FakeOpenAI):
    def __init__(self, loaded_context: int) -> None:
        super().__init__(key=None, models=tuple(m["id"] for m in LMSTUDIO_MODELS))
        self.loaded_context = loaded_context  # the window its loaded model was loaded with

    def add_routes(self, app: web.Application) -> None:
        super().add_routes(app)
        app.router.add_get("/api/v0/models", self._v0_models)

    async def _v0_models(self, request: web.Request) -> web.Response:
        await self.record(request)
        rows = [
            {"object": "model", "publisher": "fake", "arch": "qwen2", "compatibility_type": "gguf", **m}
            | ({"loaded_context_length": self.loaded_context} if m.get("state") == "loaded" else {})
            for m in LMSTUDIO_MODELS
        ]
        return web.json_response({"object": "list", "data": rows})
