using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;
using SegServe.Inference;
using SegServe.Inference.Execution;

namespace SegServe.Api.FunctionalTests.Host;

/// <summary>The repository's service with the execution-provider settings under test.</summary>
public sealed class ProviderFactory(string provider, bool requireGpu) : DefaultModelsFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Inference:ExecutionProvider", provider);
        builder.UseSetting("Inference:RequireGpu", requireGpu ? "true" : "false");
    }
}

/// <summary>
/// CUDA asked for where it may be absent: <c>Auto</c> falls back to CPU and says why, <c>RequireGpu</c> refuses to start
/// saying why. Each test holds on a machine with CUDA as well as without (this one has none): the expectation follows
/// what the CUDA provider itself says here.
/// </summary>
public sealed class ExecutionProviderTests
{
    private static readonly string? s_cudaAbsent = SessionFactory.CudaUnavailableReason(new InferenceOptions());

    [Fact]
    public async Task Auto_RunsOnCudaWhereItLoads_ElseFallsBackToCpu_SayingWhy()
    {
        await using var factory = new ProviderFactory("Auto", requireGpu: false);
        HttpClient client = factory.CreateClient();

        ModelDescription model = (await client.GetJsonAsync<ModelDescription>("/v1/models/selfie"))!;
        Assert.Equal("ready", model.Status);
        if (s_cudaAbsent is null)
        {
            Assert.Equal("CUDA", model.ExecutionProvider);
        }
        else
        {
            Assert.Equal("CPU", model.ExecutionProvider);
            Assert.StartsWith("CUDA unavailable, running on CPU:", model.ExecutionProviderNote, StringComparison.Ordinal);
            Assert.Contains("Failed to load", model.ExecutionProviderNote, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RequireGpu_StartsOnlyWhereCudaLoads_ElseRefusesToStart_SayingWhy()
    {
        await using var factory = new ProviderFactory("Auto", requireGpu: true);
        if (s_cudaAbsent is null)
        {
            ModelDescription model = (await factory.CreateClient().GetJsonAsync<ModelDescription>("/v1/models/selfie"))!;
            Assert.Equal("CUDA", model.ExecutionProvider);
            return;
        }

        OptionsValidationException refused = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains("Inference:RequireGpu is true, but CUDA is unavailable:", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Failed to load", refused.Message, StringComparison.Ordinal);
        Assert.Null(LeakScan.Find(refused.Message));
    }

    [Fact]
    public async Task RequireGpu_WithCpuConfigured_RefusesToStart()
    {
        await using var factory = new ProviderFactory("Cpu", requireGpu: true);
        OptionsValidationException refused = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains("Inference:RequireGpu is true while Inference:ExecutionProvider is Cpu", refused.Message, StringComparison.Ordinal);
    }
}
