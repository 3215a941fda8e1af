using SegServe.Inference.Models;

namespace SegServe.Api.Hosting;

/// <summary>
/// Lists the models when the host starts, then opens and warms them up in the background: the server listens at
/// once, so that clients and probes can watch the models load (<c>/health/ready</c>, <c>GET /v1/models</c>).
/// </summary>
internal sealed class ModelLoader(ModelRepository repository, IServiceProvider services) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        repository.Discover();
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        // Loading is CPU work (session creation, warm-up runs): off the thread that starts the host.
        Task.Run(() => repository.LoadAsync(services.GetService<IModelLoadObserver>(), stoppingToken), stoppingToken);
}
