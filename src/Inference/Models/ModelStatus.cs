namespace SegServe.Inference.Models;

/// <summary>Life cycle of a model in the repository.</summary>
public enum ModelStatus
{
    /// <summary>Being opened and warmed up.</summary>
    Loading,

    /// <summary>Serving requests.</summary>
    Ready,

    /// <summary>Could not be loaded; see the failure reason.</summary>
    Failed,
}
