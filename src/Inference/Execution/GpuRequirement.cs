using Microsoft.Extensions.Options;

namespace SegServe.Inference.Execution;

/// <summary>
/// Start-up check of <see cref="InferenceOptions.RequireGpu"/>: the service refuses to start, saying why, when a GPU is
/// required and the CUDA provider does not load (or when CPU is configured at the same time). Registered with the
/// options' validation so that it runs on start, before anything listens.
/// </summary>
public sealed class GpuRequirement : IValidateOptions<InferenceOptions>
{
    public ValidateOptionsResult Validate(string? name, InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.RequireGpu)
        {
            return ValidateOptionsResult.Success;
        }

        if (options.ExecutionProvider == ExecutionProviderPreference.Cpu)
        {
            return ValidateOptionsResult.Fail("Inference:RequireGpu is true while Inference:ExecutionProvider is Cpu: set one or the other.");
        }

        return SessionFactory.CudaUnavailableReason(options) is string reason
            ? ValidateOptionsResult.Fail($"Inference:RequireGpu is true, but CUDA is unavailable: {Models.PathRedaction.Redact(reason)}")
            : ValidateOptionsResult.Success;
    }
}
