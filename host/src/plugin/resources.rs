//! Plugin objects: resources a plugin exports, held by the host.
//!
//! A WIT resource the plugin exports (`resource counter { .. }`) lives in
//! the resource table of the instance that made it. wasmtime hands the host
//! a [`ResourceAny`], an index into *that store's* table: lowered into
//! another instance's store it could name a different object, or none. So a
//! [`PluginResource`] keeps the identity of its instance (its
//! [`InstanceCell`]), every call that uses it runs on exactly that instance
//! (`Instances::lease_pinned`), and when that instance is gone (a trap, a
//! limit, a reset, a reload, a fresh instance per call) the handle is a typed
//! [`Error::ResourceExpired`], never a call on whatever instance is there now.
//!
//! Releasing an object runs the plugin's destructor, which is guest code and
//! needs the store. `close().await` does it at once, on the object's
//! instance, under the call deadline. Dropping a handle cannot wait, so it
//! queues the object on its instance's cell; the next call on that instance
//! releases it first.

use std::sync::Arc;

use wasmtime::AsContextMut;
use wasmtime::StoreContextMut;
use wasmtime::component::{
    ComponentNamedList, ComponentType, Lift, Lower, Resource, ResourceAny, ResourceTable,
};

use crate::guard::store::HostState;

use crate::deadline::{ticks, with_deadline};
use crate::error::{Error, Limit, Result};
use crate::plugin::Plugin;
use crate::plugin::instance::{InstanceCell, InstanceSetup, Live};
use crate::plugin::instances::Lease;

/// A handle on an object the plugin made: a WIT resource the plugin exports
/// (`resource counter { .. }`), returned by one of its functions.
///
/// The typed handles `#[sandbox_plugin]` generates (`CounterHandle`) wrap
/// one; applications rarely use it directly. It is tied to the instance that
/// made the object: calls with it run on that instance, and once that
/// instance is gone every use is [`Error::ResourceExpired`].
///
/// Dropping it releases the object before that instance's next call
/// (the plugin's destructor runs then); the typed handles' `close().await`
/// releases it at once and reports the destructor's failure, if any.
#[derive(Debug)]
pub struct PluginResource {
    resource: Option<ResourceAny>,
    cell: Arc<InstanceCell>,
    name: &'static str,
}

/// The instance a call ran on, for wrapping the objects it returned.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct Origin(pub(crate) Arc<InstanceCell>);

impl PluginResource {
    /// Wraps `resource`, which a call on `origin`'s instance returned.
    #[doc(hidden)]
    pub fn __new(
        resource: ResourceAny,
        origin: Option<Origin>,
        name: &'static str,
    ) -> PluginResource {
        PluginResource {
            resource: Some(resource),
            cell: origin
                .expect("a call that makes objects says where it ran")
                .0,
            name,
        }
    }

    /// The resource's WIT name (`counter`).
    pub fn resource_name(&self) -> &'static str {
        self.name
    }

    /// Whether the instance that made the object still exists. A `true`
    /// here can turn `false` before the next call (another call on that
    /// instance may trap); the call's own result is what counts.
    pub fn is_alive(&self) -> bool {
        self.cell.is_alive()
    }

    /// The object, lent to one call (a `borrow<..>` parameter).
    #[doc(hidden)]
    pub fn __lend(&self) -> ResourceAny {
        self.resource
            .expect("a handle holds its object until closed or given away")
    }

    /// Marks the object as the plugin's: a call it was given to (an
    /// `own<..>` parameter, lowered with [`__lend`](Self::__lend)) returned,
    /// so the handle no longer releases it.
    #[doc(hidden)]
    pub fn __given(mut self) {
        self.resource = None;
    }

    /// The instance the object lives in, for a call that uses it.
    #[doc(hidden)]
    pub fn __pin(&self) -> Pin<'_> {
        Pin {
            cell: &self.cell,
            name: self.name,
        }
    }
}

impl Drop for PluginResource {
    fn drop(&mut self) {
        if let Some(resource) = self.resource.take() {
            self.cell.release_later(resource);
        }
    }
}

/// The instance a call must run on: the one that made its objects.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct Pin<'a> {
    cell: &'a Arc<InstanceCell>,
    name: &'static str,
}

impl<'a> Pin<'a> {
    /// The pin of a call given the objects `objects`: they must all live in
    /// the same instance, and it must still exist.
    ///
    /// # Errors
    ///
    /// [`Error::ResourceExpired`] for an object whose instance is gone;
    /// [`Error::ResourcesFromDifferentInstances`] naming `function`.
    #[doc(hidden)]
    #[inline]
    pub fn __of_all(objects: &[&'a PluginResource], function: &str) -> Result<Option<Pin<'a>>> {
        // An object whose instance is gone says so, whatever it is mixed with.
        if let Some(dead) = objects.iter().find(|o| !o.cell.is_alive()) {
            return Err(Error::ResourceExpired {
                resource: dead.name.to_string(),
                why: dead.cell.why_gone().to_string(),
            });
        }
        let Some(first) = objects.first() else {
            return Ok(None);
        };
        if objects.iter().any(|o| o.cell.id != first.cell.id) {
            return Err(Error::ResourcesFromDifferentInstances {
                function: function.to_string(),
            });
        }
        Ok(Some(first.__pin()))
    }
}

impl Plugin {
    /// A typed call that returns or uses plugin objects: on the instance
    /// `pin` names (or any instance, without one), with the identity of
    /// the instance it ran on, for wrapping what it returned.
    pub(crate) async fn call_pinned<P, R>(
        &self,
        pin: Option<Pin<'_>>,
        position: usize,
        params: P,
        makes_objects: bool,
    ) -> Result<(R, Option<Origin>)>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let mut lease = self.pinned_lease(pin).await?;
        let origin = makes_objects.then(|| Origin(lease.cell.clone()));
        release_pending(&mut lease, &self.setup).await?;
        let r = lease
            .call_typed(&self.setup, &self.exports, position, params, None)
            .await
            .map_err(|e| *e)?;
        Ok((r, origin))
    }

    /// Releases `resource` now, on its instance: the plugin's destructor
    /// runs under the call deadline.
    pub(crate) async fn release(&self, mut resource: PluginResource) -> Result<()> {
        let Some(object) = resource.resource.take() else {
            return Ok(());
        };
        let mut lease = self.pinned_lease(Some(resource.__pin())).await?;
        release_pending(&mut lease, &self.setup).await?;
        release_one(&mut lease, &self.setup, object, resource.name).await
    }

    #[inline]
    async fn pinned_lease(&self, pin: Option<Pin<'_>>) -> Result<Lease<'_>> {
        match pin {
            Some(pin) => match self.instances.try_lease_pinned(pin.cell) {
                Some(lease) => Ok(lease),
                None => self.instances.lease_pinned(pin.cell, pin.name).await,
            },
            None => self.lease().await,
        }
    }
}

/// Releases the objects whose handles were dropped since the instance's
/// last call. One load when there are none.
#[inline]
pub(crate) async fn release_pending(live: &mut Live, setup: &InstanceSetup) -> Result<()> {
    if !live
        .cell
        .has_pending
        .load(std::sync::atomic::Ordering::Acquire)
    {
        return Ok(());
    }
    for object in live.cell.take_pending() {
        release_one(live, setup, object, "dropped").await?;
    }
    Ok(())
}

/// Runs the plugin's destructor of `object` on `live`, under the call
/// deadline. A destructor that fails leaves the instance poisoned, as any
/// failed call does.
async fn release_one(
    live: &mut Live,
    setup: &InstanceSetup,
    object: ResourceAny,
    name: &str,
) -> Result<()> {
    live.poisoned = true;
    let outcome = if setup.runs_here() {
        live.store.data_mut().call_deadline = ticks().saturating_add(setup.deadline_ticks);
        object.resource_drop(&mut live.store)
    } else {
        let drop = std::pin::pin!(object.resource_drop_async(&mut live.store));
        match with_deadline(drop, ticks(), setup.limits.timeout).await {
            Ok(outcome) => outcome,
            Err(_) => {
                return Err(Error::ResourceLimitExceeded(Limit::Time {
                    deadline: setup.limits.timeout,
                }));
            }
        }
    };
    match outcome {
        Ok(()) => {
            live.poisoned = false;
            Ok(())
        }
        Err(e) => Err(crate::plugin::call::classify(
            &format!("the destructor of `{name}`"),
            e,
            live.stderr.take_recent(),
            &setup.limits,
        )),
    }
}

/// Host objects put into one call's instance: what to take back out after
/// it. For code generated by `#[sandbox_plugin]`.
#[doc(hidden)]
#[derive(Default)]
pub struct Lent {
    entries: Vec<LentEntry>,
    /// The instance's parameter types of the function called.
    expected: Vec<wasmtime::component::types::Type>,
    /// The first object whose type is not the one the host interface
    /// registered: (parameter, type given).
    mismatch: Option<(usize, &'static str)>,
}

impl std::fmt::Debug for Lent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lent")
            .field("objects", &self.entries.len())
            .finish()
    }
}

struct LentEntry {
    object: ResourceAny,
    rep: u32,
    delete: fn(&mut ResourceTable, u32),
    /// Lent (`borrow<..>`): taken back after the call. Given (`own<..>`):
    /// the plugin's once the call returns.
    lent: bool,
}

fn delete_entry<D: Send + 'static>(table: &mut ResourceTable, rep: u32) {
    let _ = table.delete(Resource::<D>::new_own(rep));
}

impl Lent {
    /// Puts `object` into the instance's resource table for the call, lent
    /// (a `borrow<..>` parameter): the host gets it back and drops it after
    /// the call.
    ///
    /// # Errors
    ///
    /// When the table is full.
    pub fn lend<D: Send + 'static>(
        &mut self,
        cx: &mut StoreContextMut<'_, HostState>,
        object: D,
        param: usize,
    ) -> wasmtime::Result<ResourceAny> {
        self.put(cx, object, true, param)
    }

    /// Puts `object` into the instance's resource table, given (an
    /// `own<..>` parameter): the plugin owns it once the call returns, and
    /// the host interface's destructor removes it when the plugin drops it.
    ///
    /// # Errors
    ///
    /// When the table is full.
    pub fn give<D: Send + 'static>(
        &mut self,
        cx: &mut StoreContextMut<'_, HostState>,
        object: D,
        param: usize,
    ) -> wasmtime::Result<ResourceAny> {
        self.put(cx, object, false, param)
    }

    fn put<D: Send + 'static>(
        &mut self,
        cx: &mut StoreContextMut<'_, HostState>,
        object: D,
        lent: bool,
        param: usize,
    ) -> wasmtime::Result<ResourceAny> {
        use wasmtime::component::types::Type;
        // The object must be of the type the host interface registered for
        // this resource, which is what the plugin's methods will find.
        if let Some(Type::Own(expected) | Type::Borrow(expected)) = self.expected.get(param)
            && *expected != wasmtime::component::ResourceType::host::<D>()
        {
            self.mismatch = Some((param, std::any::type_name::<D>()));
            wasmtime::bail!("mismatched resource types");
        }
        let resource = cx.data_mut().__table().push(object)?;
        let rep = resource.rep();
        let object = ResourceAny::try_from_resource(resource, &mut *cx)?;
        self.entries.push(LentEntry {
            object,
            rep,
            delete: delete_entry::<D>,
            lent,
        });
        Ok(object)
    }

    /// Takes the objects back: the lent ones always, the given ones too when
    /// the call failed (the plugin may never have received them).
    async fn finish(self, live: &mut Live, setup: &InstanceSetup, succeeded: bool) {
        for entry in self.entries {
            if entry.lent || !succeeded {
                let dropped = if setup.runs_here() {
                    entry.object.resource_drop(&mut live.store)
                } else {
                    entry.object.resource_drop_async(&mut live.store).await
                };
                let _ = dropped;
                (entry.delete)(live.store.data_mut().__table(), entry.rep);
            }
        }
    }
}

impl Plugin {
    /// A typed call whose parameters include host objects: `build` puts them
    /// into the instance's table (through `Lent`) and returns the
    /// parameters; they are taken back after the call.
    pub(crate) async fn call_building<P, R, B>(
        &self,
        pin: Option<Pin<'_>>,
        position: usize,
        build: B,
        makes_objects: bool,
    ) -> Result<(R, Option<Origin>)>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
        B: FnOnce(&mut StoreContextMut<'_, HostState>, &mut Lent) -> wasmtime::Result<P>,
    {
        let mut lease = self.pinned_lease(pin).await?;
        let origin = makes_objects.then(|| Origin(lease.cell.clone()));
        release_pending(&mut lease, &self.setup).await?;
        let mut lent = Lent::default();
        let (export, index) = self.exports.at(position);
        let live: &mut Live = &mut lease;
        if let Some(func) = live.instance.get_func(&mut live.store, index) {
            lent.expected = func.ty(&live.store).params().map(|(_, t)| t).collect();
        }
        let params = {
            let mut cx = lease.store.as_context_mut();
            build(&mut cx, &mut lent)
        };
        let params = match params {
            Ok(params) => params,
            Err(e) => {
                let mismatch = lent.mismatch;
                lent.finish(&mut lease, &self.setup, false).await;
                return Err(match mismatch {
                    Some((param, given)) => Error::TypeMismatch {
                        function: export.name().to_string(),
                        expected: export.signature().to_string(),
                        given: format!("a host object of type `{given}`"),
                        detail: Some(format!(
                            "parameter {} must be an object of the type the host interface was \
                             registered with (its `type ..` in the implementation)",
                            param + 1
                        )),
                    },
                    None => Error::Config {
                        detail: format!("the host objects could not be put into the instance: {e}"),
                    },
                });
            }
        };
        let r = lease
            .call_typed(&self.setup, &self.exports, position, params, None)
            .await
            .map_err(|e| *e);
        lent.finish(&mut lease, &self.setup, r.is_ok()).await;
        Ok((r?, origin))
    }
}
