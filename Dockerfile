# The controller image: `docker build -t rollouts-controller:0.1.0 .` (deploy/deployment.yaml runs it).
# Two stages so the runtime image carries the installed package and its dependencies, no build tools.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY rollouts ./rollouts
COPY analysis ./analysis
COPY traffic ./traffic
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /install /usr/local
# The same numeric user deploy/deployment.yaml asks for (runAsNonRoot, read-only root filesystem).
RUN useradd --system --uid 999 --no-create-home rollouts
USER 999
EXPOSE 8080 8090
ENTRYPOINT ["rollouts"]
CMD ["controller"]
