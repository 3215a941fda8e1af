using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SegServe.Inference.Models;

namespace SegServe.Api.FunctionalTests.Infrastructure;

/// <summary>The service exactly as configured in the repository (its own models/ folder), once its models have loaded.</summary>
public class DefaultModelsFactory : WebApplicationFactory<Program>
{
    // Evaluation runs go to a temporary database, not to the checkout's.
    private readonly string _database = Path.Combine(Path.GetTempPath(), $"segserve-{Guid.NewGuid():N}.db");

    /// <summary>Whether <see cref="CreateHost"/> waits for the models to load (true unless a test watches them load).</summary>
    protected virtual bool WaitForModels => true;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseSetting("Inference:ExecutionProvider", "Cpu");
        builder.UseSetting("Evaluation:DatabasePath", _database);
        builder.ConfigureServices(ConfigureServices);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        foreach (string file in new[] { _database, _database + "-wal", _database + "-shm" })
        {
            File.Delete(file);
        }
    }

    /// <summary>Test-only services (the leak scan, and whatever a derived factory adds).</summary>
    protected virtual void ConfigureServices(IServiceCollection services) => services.AddLeakScan();

    protected override IHost CreateHost(IHostBuilder builder)
    {
        IHost host = base.CreateHost(builder);
        if (WaitForModels)
        {
            ModelsLoaded.Wait(host);
        }

        return host;
    }
}

public static class TestHostExtensions
{
    /// <summary>Scans every response of the host for internal paths and stack traces.</summary>
    public static IServiceCollection AddLeakScan(this IServiceCollection services) =>
        services.AddTransient<IStartupFilter, LeakScanStartupFilter>();
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
