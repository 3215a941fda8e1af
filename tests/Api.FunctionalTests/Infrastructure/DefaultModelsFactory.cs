using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SegServe.Inference.Models;

namespace SegServe.Api.FunctionalTests.Infrastructure;

/// <summary>The service exactly as configured in the repository (its own models/ folder), once its models have loaded.</summary>
public sealed class DefaultModelsFactory : WebApplicationFactory<Program>
{
    protected override IHost CreateHost(IHostBuilder builder)
    {
        IHost host = base.CreateHost(builder);
        ModelsLoaded.Wait(host);
        return host;
    }
}

/// <summary>Waits for a started host's models: the service listens while they load in the background.</summary>
public static class ModelsLoaded
{
    public static void Wait(IHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        host.Services.GetRequiredService<ModelRepository>().Loaded.WaitAsync(TimeSpan.FromMinutes(5)).GetAwaiter().GetResult();
    }
}
