from tests.basket.conftest import admin, agent, andrea, api, demo, headers, web  # noqa: F401  (shared fixtures)
