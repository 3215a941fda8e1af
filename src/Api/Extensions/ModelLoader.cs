using SegServe.Inference.Models;

namespace SegServe.Api.Extensions;

/// <summary>
/// Opens and warms up every model before the server accepts requests (hosted services start before Kestrel listens),
/// so that the first request never pays for a session creation.
/// </summary>
internal sealed class ModelLoader(ModelRepository repository) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        repository.Load();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
