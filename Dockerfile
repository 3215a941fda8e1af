# SegServe container image.
#   CPU (default):  docker build -t segserve .
#   GPU:            docker build --target gpu -t segserve:gpu .   (run with --gpus all)
# Both serve the embedded models of models/ on port 8080; mount another folder on /app/models to serve yours.

ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY eng/ eng/
COPY src/ src/
RUN dotnet publish src/Api/SegServe.Api.csproj -c Release -o /app --runtime linux-x64 --self-contained false

# CPU image: ONNX Runtime's CUDA provider fails to load here and the CPU provider runs (GET /v1/models says so).
FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
WORKDIR /app
COPY --from=build /app ./
COPY models/ /app/models/
# Production settings: API keys required (configure Authentication__ApiKeys__0__Name/Sha256/Roles__0).
ENV ASPNETCORE_URLS=http://+:8080 \
    Inference__ModelsDirectory=/app/models \
    Evaluation__DatabasePath=/data/evaluations.db \
    Authentication__AllowAnonymous=false
RUN mkdir -p /data && chown $APP_UID /data
VOLUME /data
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "SegServe.Api.dll"]

# GPU image: ONNX Runtime 1.31 GPU needs CUDA 13 and cuDNN 9 on the library path.
FROM nvidia/cuda:13.0.0-cudnn-runtime-ubuntu24.04 AS gpu
ARG DOTNET_VERSION
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl libicu74 \
    && curl -fsSL https://dot.net/v1/dotnet-install.sh -o /tmp/dotnet-install.sh \
    && bash /tmp/dotnet-install.sh --channel ${DOTNET_VERSION} --runtime aspnetcore --install-dir /usr/share/dotnet \
    && ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
    && rm -rf /var/lib/apt/lists/* /tmp/dotnet-install.sh
WORKDIR /app
COPY --from=build /app ./
COPY models/ /app/models/
ENV ASPNETCORE_URLS=http://+:8080 \
    Inference__ModelsDirectory=/app/models \
    Inference__ExecutionProvider=Auto \
    Evaluation__DatabasePath=/data/evaluations.db \
    Authentication__AllowAnonymous=false
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["dotnet", "SegServe.Api.dll"]
