# syntax=docker/dockerfile:1
# SegServe container image (docs/deployment.md, "Container image").
#   CPU (default target):  docker build -t segserve .
#   GPU:                   docker build --target gpu -t segserve:gpu .   (run with --gpus all)
# Both run as the non-root user app (uid 1654), serve the models baked in from models/ on port 8080 (mount another
# folder on /app/models to serve yours), keep evaluation runs in /data and work with a read-only root file system
# (--read-only with /data and /tmp writable). scripts/container-test.sh builds the runtime target and runs it.

# Base images are arguments so that a mirror, a pinned digest or a local stand-in (scripts/make-base-images.sh) can
# replace them. CUDA 13 + cuDNN 9 is what ONNX Runtime GPU 1.31 loads.
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0
ARG CUDA_IMAGE=nvidia/cuda:13.0.0-cudnn-runtime-ubuntu24.04

FROM ${RUNTIME_IMAGE} AS aspnet

FROM ${SDK_IMAGE} AS build
WORKDIR /src
# Restore from the project files alone, so that a change to a source file reuses the restored layer.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Contracts/SegServe.Contracts.csproj src/Contracts/
COPY src/Inference/SegServe.Inference.csproj src/Inference/
COPY src/Api/SegServe.Api.csproj src/Api/
# The package cache outlives the build (BuildKit and buildah both keep cache mounts): ONNX Runtime GPU alone is
# about 300 MB to download.
RUN --mount=type=cache,id=segserve-nuget,target=/root/.nuget/packages \
    dotnet restore src/Api/SegServe.Api.csproj --runtime linux-x64
COPY eng/ eng/
COPY src/ src/
# A runtime-specific publish copies only the linux-x64 native libraries (no win-x64 or osx builds of ONNX Runtime).
# The CUDA and TensorRT providers (about 285 MB) are set aside: only the gpu target takes the CUDA one, and nothing
# here uses TensorRT. bin/ and obj/ go in the same step, so that the cached layer holds only what later stages copy.
RUN --mount=type=cache,id=segserve-nuget,target=/root/.nuget/packages \
    dotnet publish src/Api/SegServe.Api.csproj -c Release -o /app --runtime linux-x64 --self-contained false --no-restore \
    && mkdir /cuda \
    && mv /app/libonnxruntime_providers_cuda.so /cuda/ \
    && rm /app/libonnxruntime_providers_tensorrt.so \
    && rm -rf src/*/bin src/*/obj

# GPU image: the CUDA base plus the ASP.NET Core runtime of the aspnet image (the same build the CPU image runs).
FROM ${CUDA_IMAGE} AS gpu
ENV APP_UID=1654 \
    DOTNET_ROOT=/usr/share/dotnet \
    DOTNET_RUNNING_IN_CONTAINER=true
COPY --from=aspnet /usr/share/dotnet /usr/share/dotnet
# The same non-root user as Microsoft's images, so that both targets own /data the same way.
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
    && groupadd --gid=${APP_UID} app \
    && useradd --no-log-init --uid=${APP_UID} --gid=${APP_UID} --create-home app \
    && mkdir -p /data \
    && chown ${APP_UID}:${APP_UID} /data
WORKDIR /app
COPY --from=build /app ./
COPY --from=build /cuda/ ./
COPY models/ /app/models/
# Urls, not ASPNETCORE_URLS: appsettings.json sets Urls, which would override the ASPNETCORE_ variable.
# Production settings: API keys required (Authentication__ApiKeys__0__Name/Sha256/Roles__0).
ENV Urls=http://+:8080 \
    Inference__ModelsDirectory=/app/models \
    Inference__ExecutionProvider=Auto \
    Evaluation__DatabasePath=/data/evaluations.db \
    Authentication__AllowAnonymous=false
VOLUME ["/data", "/tmp"]
EXPOSE 8080
USER ${APP_UID}
# No curl or wget in these images: bash's /dev/tcp asks /health/ready (503 while loading models or draining).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/ready HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "SegServe.Api.dll"]

# CPU image (the default target, so last): the CPU provider runs; GET /v1/models says so.
FROM aspnet AS runtime
WORKDIR /app
COPY --from=build /app ./
COPY models/ /app/models/
ENV Urls=http://+:8080 \
    Inference__ModelsDirectory=/app/models \
    Inference__ExecutionProvider=Cpu \
    Evaluation__DatabasePath=/data/evaluations.db \
    Authentication__AllowAnonymous=false
USER root
RUN mkdir -p /data && chown ${APP_UID}:${APP_UID} /data
VOLUME ["/data", "/tmp"]
EXPOSE 8080
USER ${APP_UID}
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/ready HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "SegServe.Api.dll"]
